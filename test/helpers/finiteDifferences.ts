// Central finite differences of the float64 CPU runtime's energy: the checks that forces = −dE/dx and
// stress = (1/V) dE/dε, shared by the force tests of every model variant.
import { computeCpu } from '../../src/cpu/model';
import { cellVolume } from '../../src/geometry/cell';
import type { LoadedModel } from '../../src/model/config';
import type { Structure } from '../../src/io/structure';
import { clone } from './systems';

export function cpuEnergy(model: LoadedModel, s: Structure): number {
  return computeCpu(model, s, { stress: false }).energy;
}

/** max_i |F_fd − F| / max |F| over all components (err), and max |F| (eV/Å). */
export function forceFdError(model: LoadedModel, s: Structure, h = 1e-5): { err: number; maxF: number } {
  const { forces } = computeCpu(model, s, { stress: false });
  let err = 0, maxF = 0;
  for (let i = 0; i < s.positions.length; i++) {
    const p = clone(s), m = clone(s);
    p.positions[i] += h; m.positions[i] -= h;
    const fd = -(cpuEnergy(model, p) - cpuEnergy(model, m)) / (2 * h);
    err = Math.max(err, Math.abs(fd - forces[i]));
    maxF = Math.max(maxF, Math.abs(forces[i]));
  }
  return { err: err / maxF, maxF };
}

/** Positions or cell rows deformed by (1 + ε). */
export function deform(v: Float64Array, eps: Float64Array): Float64Array {
  const out = new Float64Array(v.length);
  for (let a = 0; a < v.length / 3; a++)
    for (let q = 0; q < 3; q++) {
      let t = v[3 * a + q];
      for (let p = 0; p < 3; p++) t += v[3 * a + p] * eps[3 * p + q];
      out[3 * a + q] = t;
    }
  return out;
}

/**
 * Stress of the reverse pass against (1/V) dE/dε by symmetric finite strains of positions and cell:
 * max |σ_fd − σ| / max |σ| (err), and max |σ| (eV/Å³).
 */
export function stressFdError(model: LoadedModel, s: Structure, h = 1e-6): { err: number; maxS: number } {
  const stress = computeCpu(model, s, { stress: true }).stress!;
  const V = cellVolume(s.cell!);
  let err = 0, maxS = 0;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const strained = (sign: number) => {
        const eps = new Float64Array(9);
        eps[3 * i + j] += (sign * h) / 2; eps[3 * j + i] += (sign * h) / 2; // symmetric ε
        return cpuEnergy(model, { ...s, positions: deform(s.positions, eps), cell: deform(s.cell!, eps) });
      };
      const fd = (strained(1) - strained(-1)) / (2 * h) / V;
      err = Math.max(err, Math.abs(fd - stress[3 * i + j]));
      maxS = Math.max(maxS, Math.abs(stress[3 * i + j]));
    }
  return { err: err / maxS, maxS };
}
