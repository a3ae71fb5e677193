// Lennard-Jones as a GPU-resident force provider (shaders/md/lj.wgsl): same tables and conventions as the
// float64 LennardJonesCpu, all work recorded into the engine's command encoder.
import ljSource from '../../shaders/md/lj.wgsl?raw';
import { setFields, SharedBindingShader, uniformView } from '../gpu/reflect';
import type { GpuForceProvider, GpuForceTarget } from './forceProvider';
import { ljTables, orthorhombicLengths, type LjParams, type LjTables } from './lj';

export class LennardJonesGpu implements GpuForceProvider {
  readonly kind = 'gpu';
  readonly resident = true;
  readonly name = 'Lennard-Jones (WebGPU, f32)';
  readonly tables: LjTables;
  private forcesPipeline: GPUComputePipeline | null = null;
  private reducePipeline: GPUComputePipeline | null = null;
  private bindGroup: GPUBindGroup | null = null;
  private owned: GPUBuffer[] = [];
  private n = 0;

  constructor(readonly numbers: Int32Array, readonly params: LjParams) {
    this.tables = ljTables(numbers, params);
  }

  async attach(t: GpuForceTarget): Promise<void> {
    const d = t.device, n = t.numAtoms, tb = this.tables;
    this.n = n;
    const uni = uniformView(ljSource, 'L');
    setFields(uni, { n, num_types: tb.numTypes, rc2: this.params.cutoff ** 2, u_tail_coef: tb.uTailCoef, p_tail_coef: tb.pTailCoef });
    const pair = new Float32Array(4 * tb.numTypes * tb.numTypes);
    for (let k = 0; k < tb.numTypes * tb.numTypes; k++) pair.set([tb.eps4[k], tb.sigma2[k], tb.shift[k], 0], 4 * k);
    const make = (data: ArrayBufferView | ArrayBuffer | null, size: number, usage: number) => {
      const b = d.createBuffer({ size: Math.max(16, size), usage: usage | GPUBufferUsage.COPY_DST });
      if (data) d.queue.writeBuffer(b, 0, data as ArrayBuffer);
      this.owned.push(b);
      return b;
    };
    const shader = new SharedBindingShader(d, 'shaders/md/lj.wgsl', ljSource, ['lj_forces', 'lj_reduce']);
    this.forcesPipeline = shader.pipelines.get('lj_forces')!;
    this.reducePipeline = shader.pipelines.get('lj_reduce')!;
    this.bindGroup = shader.bindGroup({
      L: make(uni.arrayBuffer, uni.arrayBuffer.byteLength, GPUBufferUsage.UNIFORM),
      pos: t.positions, frc: t.forces, box: t.box, out: t.output,
      types: make(tb.types, tb.types.byteLength, GPUBufferUsage.STORAGE),
      pair: make(pair, pair.byteLength, GPUBufferUsage.STORAGE),
      per_atom: make(null, 32 * n, GPUBufferUsage.STORAGE),
    });
  }

  /** Host-side check the kernel cannot make: the cutoff must fit the (possibly barostat-scaled) box. */
  /** Same as checkSystem (kept for callers that check before creating the engine). */
  checkBox(cell: Float64Array | null, pbc: [boolean, boolean, boolean]): void {
    this.checkSystem(cell, pbc);
  }

  checkSystem(cell: Float64Array | null, pbc: [boolean, boolean, boolean]): void {
    const L = orthorhombicLengths(cell, pbc, 'Lennard-Jones');
    if (L) for (let k = 0; k < 3; k++) if (this.params.cutoff > L[k] / 2) {
      throw new Error(`Lennard-Jones: cutoff ${this.params.cutoff} Å exceeds half the box length, ${(L[k] / 2).toFixed(3)} Å (minimum image)`);
    }
  }

  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'lj' });
    this.encodeInPass(pass);
    pass.end();
  }

  encodeInPass(pass: GPUComputePassEncoder): void {
    pass.setBindGroup(0, this.bindGroup!);
    pass.setPipeline(this.forcesPipeline!);
    pass.dispatchWorkgroups(Math.ceil(this.n / 64));
    pass.setPipeline(this.reducePipeline!);
    pass.dispatchWorkgroups(1);
  }

  async evaluate(): Promise<void> {
    throw new Error('LennardJonesGpu is GPU-resident: use encode()');
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
  }
}
