// Small deterministic test systems.
import type { Structure } from '../../src/io/structure';
// Deterministic PRNG (mulberry32), the one the sample systems are built with.
import { rng } from '../../scripts/sampleSystems';

export { rng };

/** n atoms at random in a box of side `box` Å, at least `minDist` Å apart (no periodic images). */
export function randomCluster(n: number, box: number, minDist: number, seed: number, elements = [1, 6, 7, 8]): Structure {
  const r = rng(seed);
  const pos: number[] = [];
  while (pos.length < 3 * n) {
    const p = [r() * box, r() * box, r() * box];
    let ok = true;
    for (let j = 0; j < pos.length; j += 3)
      if (Math.hypot(p[0] - pos[j], p[1] - pos[j + 1], p[2] - pos[j + 2]) < minDist) { ok = false; break; }
    if (ok) pos.push(...p);
  }
  return {
    numbers: Int32Array.from({ length: n }, () => elements[Math.floor(r() * elements.length)]),
    positions: Float64Array.from(pos), cell: null, pbc: [false, false, false], charge: 0, spin: 1,
  };
}

export function withCell(s: Structure, cell: number[], pbc: [boolean, boolean, boolean] = [true, true, true]): Structure {
  return { ...s, cell: Float64Array.from(cell), pbc };
}

export function clone(s: Structure): Structure {
  return { ...s, numbers: Int32Array.from(s.numbers), positions: Float64Array.from(s.positions), cell: s.cell ? Float64Array.from(s.cell) : null, pbc: [...s.pbc] as Structure['pbc'] };
}
