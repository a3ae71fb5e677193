// The WebGPU AllScAIP runtime as an MD force provider (src/md/forceProvider.ts) on the engine's own
// device. Not yet GPU-resident: each force call reads positions and box back, runs the model
// (graph sizing needs one more small read-back), and writes forces, energy and virial into the
// engine's buffers. Virial W = −V·stress, as the engine expects.
import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { BOX_FLOATS, OUTPUT_FLOATS, type GpuForceProvider, type GpuForceTarget } from '../md/forceProvider';
import { GpuRuntime } from './runtime';
import { GpuModel } from './model';

export class AllScaipWebGpu implements GpuForceProvider {
  readonly kind = 'gpu';
  readonly resident = false;
  readonly name: string;
  private target: GpuForceTarget | null = null;
  private rt: GpuRuntime | null = null;
  private gpuModel: GpuModel | null = null;
  private staging: GPUBuffer | null = null;

  constructor(readonly model: LoadedModel, readonly charge = 0, readonly spin = 1, private readonly wantVirial = true) {
    this.name = `AllScAIP ${model.config.name} (WebGPU float32)`;
  }

  async attach(target: GpuForceTarget): Promise<void> {
    this.target = target;
    this.rt = new GpuRuntime(target.device);
    this.gpuModel = new GpuModel(this.rt, this.model);
    this.staging = target.device.createBuffer({
      label: 'allscaip.staging', size: target.numAtoms * 16 + BOX_FLOATS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  encode(): void {
    throw new Error(`${this.name} is not GPU-resident yet: the engine must call evaluate()`);
  }

  async evaluate(): Promise<void> {
    const t = this.target, staging = this.staging, gm = this.gpuModel;
    if (!t || !staging || !gm) throw new Error(`${this.name}: attach() was not called`);
    const n = t.numAtoms;
    const enc = t.device.createCommandEncoder({ label: 'allscaip.read-positions' });
    enc.copyBufferToBuffer(t.positions, 0, staging, 0, n * 16);
    enc.copyBufferToBuffer(t.box, 0, staging, n * 16, BOX_FLOATS * 4);
    t.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const positions = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) positions[3 * i + k] = raw[4 * i + k];
    const box = raw.subarray(4 * n, 4 * n + BOX_FLOATS);
    const cell = box[9] > 0 ? Float64Array.from(box.subarray(0, 9)) : null;
    const structure: Structure = { numbers: t.numbers, positions, cell, pbc: t.pbc, charge: this.charge, spin: this.spin };
    const periodic = cell !== null && t.pbc.some(Boolean);
    const r = await gm.compute(structure, { stress: this.wantVirial && periodic });
    const f = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) f[4 * i + k] = r.forces[3 * i + k];
    const out = new Float32Array(OUTPUT_FLOATS);
    out[0] = r.energy;
    if (r.stress && cell) {
      for (let k = 0; k < 9; k++) out[1 + k] = -box[9] * r.stress[k];
      out[10] = 1;
    }
    t.device.queue.writeBuffer(t.forces, 0, f);
    t.device.queue.writeBuffer(t.output, 0, out);
  }

  destroy(): void {
    this.staging?.destroy();
    this.rt?.destroy();
  }
}
