// Forces = −dE/dx and stress = (1/V) dE/dε of the hand-written reverse pass, checked by central
// finite differences in float64 for every flag combination, near the soft-kNN boundaries.
import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../src/model/config';
import type { Structure } from '../../src/io/structure';
import { goldenModel, readGolden } from '../helpers/golden';
import { forceFdError, stressFdError } from '../helpers/finiteDifferences';
import { randomCluster, withCell } from '../helpers/systems';

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

const combos = [false, true].flatMap((lae) => [false, true].flatMap((erope) => [false, true].map((node) => ({ lae, erope, node }))));

describe('forces = −dE/dx (central finite differences, float64)', () => {
  for (const flags of combos) {
    const label = `LAE ${flags.lae ? 'on' : 'off'}, ERoPE ${flags.erope ? 'on' : 'off'}, node attention ${flags.node ? 'on' : 'off'}`;
    // Small k, candidate budget and cutoff put many atoms at the soft-rank and distance boundaries.
    it(`${label}: cluster with ranks ≈ k, truncation active, charge −1 / spin 3`, () => {
      const model = variant(flags, { knn_k: 5, knn_candidates: 9, cutoff: 3.5 });
      const s = { ...randomCluster(11, 4.2, 0.9, 7 + Number(flags.lae) + 2 * Number(flags.erope) + 4 * Number(flags.node)), charge: -1, spin: 3 };
      const { err, maxF } = forceFdError(model, s);
      expect(maxF).toBeGreaterThan(1e-3);
      expect(err).toBeLessThan(1e-6);
    });
    it(`${label}: periodic triclinic cell`, () => {
      const model = variant(flags, { knn_k: 8, knn_candidates: 14, cutoff: 3.0 });
      const s = withCell(randomCluster(7, 3.4, 1.0, 101), [4.1, 0, 0, 0.6, 3.9, 0, -0.4, 0.5, 4.3]);
      const { err } = forceFdError(model, s);
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
    expect(forceFdError(model, s).err).toBeLessThan(1e-6);
  });
});

describe('stress = (1/V) dE/dε (finite strain derivative)', () => {
  it('triclinic periodic cell, all flags on', () => {
    const model = variant({ lae: true, erope: true, node: true }, { knn_k: 8, knn_candidates: 14, cutoff: 3.0 });
    const s = withCell(randomCluster(7, 3.4, 1.0, 55), [4.1, 0, 0, 0.6, 3.9, 0, -0.4, 0.5, 4.3]);
    const { err, maxS } = stressFdError(model, s);
    expect(maxS).toBeGreaterThan(1e-5);
    expect(err).toBeLessThan(1e-6);
  });
});
