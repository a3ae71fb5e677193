// The WebGPU AllScAIP runtime as an MD force provider (src/md/forceProvider.ts) on the engine's own
// device. Not yet GPU-resident: each force call reads positions and box back, runs the model
// (graph sizing needs one more small read-back), and writes forces, energy and virial into the
// engine's buffers. Virial W = −V·stress, as the engine expects.
import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { createHostStaging, readHostState, writeHostResult, type GpuForceProvider, type GpuForceTarget } from '../md/forceProvider';
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
    this.staging = createHostStaging(target, 'allscaip.staging');
  }

  encode(): void {
    throw new Error(`${this.name} is not GPU-resident yet: the engine must call evaluate()`);
  }

  async evaluate(): Promise<void> {
    const t = this.target, staging = this.staging, gm = this.gpuModel;
    if (!t || !staging || !gm) throw new Error(`${this.name}: attach() was not called`);
    const { positions, cell, volume } = await readHostState(t, staging);
    const structure: Structure = { numbers: t.numbers, positions, cell, pbc: t.pbc, charge: this.charge, spin: this.spin };
    const periodic = cell !== null && t.pbc.some(Boolean);
    const r = await gm.compute(structure, { stress: this.wantVirial && periodic });
    writeHostResult(t, { energy: r.energy, forces: r.forces, virial: r.stress && cell ? Float64Array.from(r.stress, (x) => -volume * x) : null });
  }

  destroy(): void {
    this.staging?.destroy();
    this.rt?.destroy();
  }
}
