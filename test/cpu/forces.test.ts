// Forces = −dE/dx and stress = (1/V) dE/dε of the hand-written reverse pass, checked by central
// finite differences in float64 for every flag combination, near the soft-kNN boundaries.
import { describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import type { LoadedModel } from '../../src/model/config';
import type { Structure } from '../../src/io/structure';
import { goldenModel, readGolden } from '../helpers/golden';
import { clone, randomCluster, withCell } from '../helpers/systems';

const base = goldenModel(readGolden('case1_water8_allflags')); // LAE + ERoPE + node weights, H=32

function variant(flags: { lae: boolean; erope: boolean; node: boolean }, arch: Partial<LoadedModel['config']['architecture']> = {}): LoadedModel {
  return {
    tensors: base.tensors,
    config: {
      ...base.config,
      architecture: { ...base.config.architecture, use_lae: flags.lae, use_erope: flags.erope, use_node_attention: flags.node, ...arch },
    },
  };
}

function energy(model: LoadedModel, s: Structure): number {
  return computeCpu(model, s, { stress: false }).energy;
}

/** max_i |F_fd − F| / max |F| over all components. */
function forceError(model: LoadedModel, s: Structure, h = 1e-5): { err: number; maxF: number } {
  const { forces } = computeCpu(model, s, { stress: false });
  let err = 0, maxF = 0;
  for (let i = 0; i < s.positions.length; i++) {
    const p = clone(s), m = clone(s);
    p.positions[i] += h; m.positions[i] -= h;
    const fd = -(energy(model, p) - energy(model, m)) / (2 * h);
    err = Math.max(err, Math.abs(fd - forces[i]));
    maxF = Math.max(maxF, Math.abs(forces[i]));
  }
  return { err: err / maxF, maxF };
}

const combos = [false, true].flatMap((lae) => [false, true].flatMap((erope) => [false, true].map((node) => ({ lae, erope, node }))));

describe('forces = −dE/dx (central finite differences, float64)', () => {
  for (const flags of combos) {
    const label = `LAE ${flags.lae ? 'on' : 'off'}, ERoPE ${flags.erope ? 'on' : 'off'}, node attention ${flags.node ? 'on' : 'off'}`;
    // Small k, candidate budget and cutoff put many atoms at the soft-rank and distance boundaries.
    it(`${label}: cluster with ranks ≈ k, truncation active, charge −1 / spin 3`, () => {
      const model = variant(flags, { knn_k: 5, knn_candidates: 9, cutoff: 3.5 });
      const s = { ...randomCluster(11, 4.2, 0.9, 7 + Number(flags.lae) + 2 * Number(flags.erope) + 4 * Number(flags.node)), charge: -1, spin: 3 };
      const { err, maxF } = forceError(model, s);
      expect(maxF).toBeGreaterThan(1e-3);
      expect(err).toBeLessThan(1e-6);
    });
    it(`${label}: periodic triclinic cell`, () => {
      const model = variant(flags, { knn_k: 8, knn_candidates: 14, cutoff: 3.0 });
      const s = withCell(randomCluster(7, 3.4, 1.0, 101), [4.1, 0, 0, 0.6, 3.9, 0, -0.4, 0.5, 4.3]);
      const { err } = forceError(model, s);
      expect(err).toBeLessThan(1e-6);
    });
  }

  it('atoms straddling the cutoff', () => {
    const model = variant({ lae: true, erope: true, node: true }, { cutoff: 3.0 });
    // pairs at 2.99, 3.0005 and 2.95 Å from atom 0 (edge kept/excluded by the distance term)
    const s: Structure = {
      numbers: Int32Array.from([8, 1, 1, 6]),
      positions: Float64Array.from([0, 0, 0, 2.99, 0, 0, 0, 3.0005, 0, 0.1, 0.2, 2.95]),
      cell: null, pbc: [false, false, false], charge: 0, spin: 1,
    };
    expect(forceError(model, s).err).toBeLessThan(1e-6);
  });
});

describe('stress = (1/V) dE/dε (finite strain derivative)', () => {
  it('triclinic periodic cell, all flags on', () => {
    const model = variant({ lae: true, erope: true, node: true }, { knn_k: 8, knn_candidates: 14, cutoff: 3.0 });
    const s = withCell(randomCluster(7, 3.4, 1.0, 55), [4.1, 0, 0, 0.6, 3.9, 0, -0.4, 0.5, 4.3]);
    const r = computeCpu(model, s, { stress: true });
    const V = 4.1 * 3.9 * 4.3;
    const h = 1e-6;
    let err = 0, maxS = 0;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const strained = (sign: number) => {
          const eps = new Float64Array(9);
          eps[3 * i + j] += (sign * h) / 2; eps[3 * j + i] += (sign * h) / 2; // symmetric ε
          const apply = (v: Float64Array) => {
            const out = new Float64Array(v.length);
            for (let a = 0; a < v.length / 3; a++)
              for (let q = 0; q < 3; q++) {
                let t = v[3 * a + q];
                for (let p = 0; p < 3; p++) t += v[3 * a + p] * eps[3 * p + q];
                out[3 * a + q] = t;
              }
            return out;
          };
          return { ...s, positions: apply(s.positions), cell: apply(s.cell!) };
        };
        const fd = (energy(model, strained(1)) - energy(model, strained(-1))) / (2 * h) / V;
        err = Math.max(err, Math.abs(fd - r.stress![3 * i + j]));
        maxS = Math.max(maxS, Math.abs(r.stress![3 * i + j]));
      }
    expect(maxS).toBeGreaterThan(1e-5);
    expect(err / maxS).toBeLessThan(1e-6);
  });
});
