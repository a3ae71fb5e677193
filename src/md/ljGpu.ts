// Lennard-Jones as a GPU-resident force provider (shaders/md/lj.wgsl): same tables and conventions as the
// float64 LennardJonesCpu, all work recorded into the engine's command encoder.
import ljSource from '../../shaders/md/lj.wgsl?raw';
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
    const uni = new ArrayBuffer(32);
    new Uint32Array(uni, 0, 4).set([n, tb.numTypes, 0, 0]);
    new Float32Array(uni, 16, 4).set([this.params.cutoff ** 2, tb.uTailCoef, tb.pTailCoef, 0]);
    const pair = new Float32Array(4 * tb.numTypes * tb.numTypes);
    for (let k = 0; k < tb.numTypes * tb.numTypes; k++) pair.set([tb.eps4[k], tb.sigma2[k], tb.shift[k], 0], 4 * k);
    const make = (data: ArrayBufferView | null, size: number, usage: number) => {
      const b = d.createBuffer({ size: Math.max(16, size), usage: usage | GPUBufferUsage.COPY_DST });
      if (data) d.queue.writeBuffer(b, 0, data as unknown as ArrayBuffer);
      this.owned.push(b);
      return b;
    };
    const uniform = make(new Uint8Array(uni), 32, GPUBufferUsage.UNIFORM);
    const types = make(tb.types, tb.types.byteLength, GPUBufferUsage.STORAGE);
    const pairs = make(pair, pair.byteLength, GPUBufferUsage.STORAGE);
    const perAtom = make(null, 32 * n, GPUBufferUsage.STORAGE);
    const module = d.createShaderModule({ code: ljSource, label: 'lj.wgsl' });
    const ro = 'read-only-storage' as const;
    const layout = d.createBindGroupLayout({
      entries: (['uniform', ro, 'storage', ro, ro, ro, 'storage', 'storage'] as GPUBufferBindingType[]).map((type, binding) => ({
        binding, visibility: GPUShaderStage.COMPUTE, buffer: { type },
      })),
    });
    const pl = d.createPipelineLayout({ bindGroupLayouts: [layout] });
    this.forcesPipeline = d.createComputePipeline({ layout: pl, compute: { module, entryPoint: 'lj_forces' } });
    this.reducePipeline = d.createComputePipeline({ layout: pl, compute: { module, entryPoint: 'lj_reduce' } });
    this.bindGroup = d.createBindGroup({
      layout,
      entries: [uniform, t.positions, t.forces, types, pairs, t.box, t.output, perAtom].map((buffer, binding) => ({
        binding, resource: { buffer },
      })),
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
