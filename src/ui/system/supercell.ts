// Replicate a periodic structure into an na × nb × nc supercell (atoms ordered cell by cell).
import type { Structure } from '../../io/structure';

export function supercell(s: Structure, na: number, nb: number, nc: number): Structure {
  if (!s.cell) throw new Error('a supercell needs a cell: this structure has none (a molecule in vacuum)');
  const reps = [na, nb, nc];
  reps.forEach((r, d) => {
    if (!Number.isInteger(r) || r < 1) throw new Error(`supercell repeats must be whole numbers ≥ 1 (got ${r} along axis ${'abc'[d]})`);
    if (r > 1 && !s.pbc[d]) throw new Error(`cannot repeat along ${'abc'[d]}: the structure is not periodic in that direction`);
  });
  const n = s.numbers.length;
  const m = na * nb * nc;
  const h = s.cell;
  const numbers = new Int32Array(n * m);
  const positions = new Float64Array(3 * n * m);
  let k = 0;
  for (let i = 0; i < na; i++)
    for (let j = 0; j < nb; j++)
      for (let l = 0; l < nc; l++) {
        const sx = i * h[0] + j * h[3] + l * h[6];
        const sy = i * h[1] + j * h[4] + l * h[7];
        const sz = i * h[2] + j * h[5] + l * h[8];
        for (let a = 0; a < n; a++, k++) {
          numbers[k] = s.numbers[a];
          positions[3 * k] = s.positions[3 * a] + sx;
          positions[3 * k + 1] = s.positions[3 * a + 1] + sy;
          positions[3 * k + 2] = s.positions[3 * a + 2] + sz;
        }
      }
  const cell = Float64Array.from([...h.slice(0, 3).map((v) => v * na), ...h.slice(3, 6).map((v) => v * nb), ...h.slice(6, 9).map((v) => v * nc)]);
  // Per-atom arrays would need the same tiling; velocities are re-drawn by the engine, so drop them.
  return { numbers, positions, cell, pbc: s.pbc, charge: s.charge * m, spin: s.spin, info: s.info };
}
