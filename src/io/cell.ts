// Small cell (lattice) helpers shared by the structure readers and writers.
// A cell is 9 numbers row-major: rows are the lattice vectors a, b, c (Å), as in ASE.

/** Signed volume a·(b×c) in Å³. */
export function cellDeterminant(cell: ArrayLike<number>): number {
  const [ax, ay, az, bx, by, bz, cx, cy, cz] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => cell[i]);
  return ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
}

/** Volume |det(cell)| in Å³. */
export function cellVolume(cell: ArrayLike<number>): number {
  return Math.abs(cellDeterminant(cell));
}

/**
 * Lattice vectors from lengths (Å) and angles (degrees), in ASE's orientation (`cellpar_to_cell`):
 * a along x, b in the xy plane, c completing a right-handed cell.
 */
export function cellFromParameters(
  a: number,
  b: number,
  c: number,
  alphaDeg: number,
  betaDeg: number,
  gammaDeg: number,
): Float64Array {
  // Exact zeros for right angles so an orthorhombic cell has no 1e-17 off-diagonal noise (ASE does the same).
  const cosDeg = (d: number) => (Math.abs(d - 90) < 1e-9 ? 0 : Math.cos((d * Math.PI) / 180));
  const sinDeg = (d: number) => (Math.abs(d - 90) < 1e-9 ? 1 : Math.sin((d * Math.PI) / 180));
  const cosA = cosDeg(alphaDeg);
  const cosB = cosDeg(betaDeg);
  const cosG = cosDeg(gammaDeg);
  const sinG = sinDeg(gammaDeg);
  const cx = c * cosB;
  const cy = (c * (cosA - cosB * cosG)) / sinG;
  const cz2 = c * c - cx * cx - cy * cy;
  if (!(cz2 > 0)) {
    throw new Error(`cell angles α=${alphaDeg}°, β=${betaDeg}°, γ=${gammaDeg}° do not form a valid cell`);
  }
  return Float64Array.from([a, 0, 0, b * cosG, b * sinG, 0, cx, cy, Math.sqrt(cz2)]);
}

/** Lengths (Å) and angles (degrees) of a cell: [a, b, c, α, β, γ]. */
export function cellParameters(cell: ArrayLike<number>): [number, number, number, number, number, number] {
  const v = [0, 1, 2].map((r) => [cell[3 * r], cell[3 * r + 1], cell[3 * r + 2]]);
  const len = v.map((x) => Math.hypot(x[0], x[1], x[2]));
  const angle = (i: number, j: number) => {
    const dot = v[i][0] * v[j][0] + v[i][1] * v[j][1] + v[i][2] * v[j][2];
    return (Math.acos(Math.max(-1, Math.min(1, dot / (len[i] * len[j])))) * 180) / Math.PI;
  };
  return [len[0], len[1], len[2], angle(1, 2), angle(0, 2), angle(0, 1)];
}
