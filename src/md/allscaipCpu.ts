// The float64 CPU AllScAIP runtime (src/cpu/model.ts) as an MD force provider. Stress (ASE convention,
// (1/V)∂E/∂ε) becomes the virial W = −V·stress so the engine's pressure formula covers both.
import { computeCpu } from '../cpu/model';
import type { Pbc, Structure } from '../io/structure';
import type { LoadedModel } from '../model/config';
import type { CpuForceProvider, ForceResult } from './forceProvider';
import { cellVolume } from '../geometry/cell';

export class AllScaipCpu implements CpuForceProvider {
  readonly kind = 'cpu';
  readonly name: string;
  constructor(readonly model: LoadedModel, readonly numbers: Int32Array, readonly charge = 0, readonly spin = 1) {
    this.name = `AllScAIP ${model.config.name} (float64 CPU)`;
  }

  compute(positions: Float64Array, cell: Float64Array | null, pbc: Pbc, wantVirial: boolean): ForceResult {
    const s: Structure = { numbers: this.numbers, positions, cell, pbc, charge: this.charge, spin: this.spin };
    const periodic = cell !== null && pbc.some(Boolean);
    const r = computeCpu(this.model, s, { stress: wantVirial && periodic && this.model.config.heads.forces === 'conservative' });
    let virial: Float64Array | null = null;
    if (r.stress && cell) {
      const v = cellVolume(cell);
      virial = Float64Array.from(r.stress, (x) => -v * x);
    }
    return { energy: r.energy, forces: r.forces, virial };
  }
}
