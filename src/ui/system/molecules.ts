// Molecule index per atom (connected components of the covalent-bond graph, minimum image), which the
// Monte Carlo barostat needs to scale molecule centres instead of stretching bonds.

import { COVALENT_RADII } from '../../io/elements';
import type { Pbc } from '../../io/structure';
import { findBonds } from '../geometry/bonds';
import { makeCellFrame } from '../geometry/cell';

export function moleculeIndex(numbers: ArrayLike<number>, positions: ArrayLike<number>, cell: ArrayLike<number> | null, pbc: Pbc): Int32Array {
  const n = numbers.length;
  const radii = Float64Array.from({ length: n }, (_, i) => COVALENT_RADII[numbers[i]] ?? 0.7);
  const b = findBonds(positions, radii, makeCellFrame(cell, pbc), { scale: 1.15 });
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let k = 0; k < b.count; k++) {
    const a = root(b.pairs[2 * k]), c = root(b.pairs[2 * k + 1]);
    if (a !== c) parent[Math.max(a, c)] = Math.min(a, c);
  }
  // Renumber roots 0..M-1 in order of first appearance.
  const id = new Int32Array(n).fill(-1);
  const out = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const r = root(i);
    if (id[r] < 0) id[r] = m++;
    out[i] = id[r];
  }
  return out;
}
