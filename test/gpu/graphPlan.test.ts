// Allocation plan of the graph and feature buffers: linear in N (no N×N buffer), up to a
// 20,000-atom water-density box and a 20,000-atom cluster, and the cell grid stays bounded for
// a dilute periodic box. Pure arithmetic (graphLayout / featureBytes are what planGraph and
// recordEdgeFeatures allocate), so it needs no device.
import { describe, expect, it } from 'vitest';
import { graphLayout, safeSlotBudget, type GpuCellInput } from '../../src/gpu/ops/graph';
import { featureBytes } from '../../src/gpu/ops/features';
import { archWith } from './graphSystems';

// The released model's settings: knn_k 30, top 50 candidates, 512 RBF, SH l ≤ 5, BOO l ≤ 9.
const arch = archWith({ cutoff: 6, knn_k: 30, knn_candidates: 50, rbf_size: 512, sh_lmax: 5, boo_lmax: 9, lae_frequency_list: [6, 4, 2, 2, 2] });

function total(n: number, cell: GpuCellInput, withRbfTable = true): number {
  const K = safeSlotBudget(arch);
  const g = graphLayout(arch, n, cell, K);
  const f = featureBytes(n, K, arch);
  if (!withRbfTable) delete f.rbf;
  return [...Object.values(g.bytes), ...Object.values(f)].reduce((a, b) => a + b, 0);
}

const box = (n: number): GpuCellInput => {
  const L = Math.cbrt(n / 0.1); // water: ~0.1 atoms/Å³
  return { vectors: [L, 0, 0, 0, L, 0, 0, 0, L], pbc: [true, true, true] };
};
const free: GpuCellInput = { vectors: null, pbc: [false, false, false] };

describe('graph + feature allocation plan', () => {
  it('grows linearly in N up to 20,000 atoms', () => {
    for (const cell of [box, () => free]) {
      for (const withRbf of [true, false]) {
        const perAtom = [1000, 5000, 20000].map((n) => total(n, cell(n), withRbf) / n);
        console.log(`bytes per atom${withRbf ? '' : ' without the RBF table'}:`, perAtom.map((b) => b.toFixed(0)).join(', '));
        for (const b of perAtom) expect(Math.abs(b / perAtom[2] - 1)).toBeLessThan(0.01);
      }
    }
  });

  it('says which setting is out of range', () => {
    expect(() => graphLayout(archWith({ knn_candidates: 65 }), 10, free)).toThrow(/knn_candidates = 65/);
    expect(() => graphLayout(arch, 10, { vectors: [1, 0, 0, 2, 0, 0, 0, 0, 1], pbc: [true, true, true] })).toThrow(/singular/);
    expect(() => graphLayout(arch, 10, free, 0)).toThrow(/slot budget/);
  });

  it('a dilute periodic box gets coarser cells, not more of them', () => {
    const n = 100;
    const g = graphLayout(arch, n, { vectors: [1000, 0, 0, 0, 1000, 0, 0, 0, 1000], pbc: [true, true, true] });
    expect(g.maxCells).toBeLessThanOrEqual(2 * n + 27);
    expect(g.numImages).toBe(27);
  });
});
