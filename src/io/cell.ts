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

/**
 * Perpendicular heights of a cell (Å): the distance between opposite faces, V/|b×c|, V/|c×a|, V/|a×b|.
 * A cutoff sphere of radius r needs ⌈r/h_i⌉ periodic images along each direction i, so the thinnest
 * height, not the vector length, says whether a cell is too thin for a model. Non-finite for a
 * degenerate cell (check cellProblem first).
 */
export function cellHeights(cell: ArrayLike<number>): [number, number, number] {
  const v = [0, 1, 2].map((r) => [cell[3 * r], cell[3 * r + 1], cell[3 * r + 2]]);
  const volume = Math.abs(cellDeterminant(cell));
  const crossNorm = (p: number[], q: number[]) =>
    Math.hypot(p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]);
  return [volume / crossNorm(v[1], v[2]), volume / crossNorm(v[2], v[0]), volume / crossNorm(v[0], v[1])];
}

/**
 * Smallest accepted |det| / (|a||b||c|): the volume as a fraction of the volume the same three lengths
 * would enclose at right angles (1 for an orthorhombic cell, sin γ for a monoclinic one). It is
 * scale-free, so a 1 Å and a 1000 Å cell are judged alike, unlike an absolute determinant threshold.
 * Below 1e-6 the vectors are parallel to within ~0.0001°, and a cell written with 8 significant digits
 * has its volume set by rounding noise at the percent level: no physical cell looks like that.
 */
export const MIN_NORMALIZED_CELL_VOLUME = 1e-6;

/** "a = 10 Å, b = 10 Å, c = 10 Å, α = 90°, β = 90°, γ = 0.0000057°" for error messages. */
export function describeCell(cell: ArrayLike<number>): string {
  const [a, b, c, alpha, beta, gamma] = cellParameters(cell);
  const f = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
  return `a = ${f(a)} Å, b = ${f(b)} Å, c = ${f(c)} Å, α = ${f(alpha)}°, β = ${f(beta)}°, γ = ${f(gamma)}°`;
}

/**
 * Why a cell cannot be simulated, or null if it can: entries that are not finite numbers, a zero-length
 * vector, lengths or volume that overflow float64 (so later products would be Infinity or NaN), or
 * vectors that are (nearly) linearly dependent (normalized volume below MIN_NORMALIZED_CELL_VOLUME).
 * The message carries the lengths and angles. Left-handed cells (det < 0) are accepted, as ASE does;
 * every runtime uses |det|. See cellHandedness to tell them apart.
 */
export function cellProblem(cell: ArrayLike<number>): string | null {
  if (cell.length !== 9) return `a cell needs 9 numbers (three lattice vectors), got ${cell.length}`;
  for (let i = 0; i < 9; i++) {
    if (!Number.isFinite(cell[i])) return `cell entry ${i + 1} of 9 is ${cell[i]}, not a finite number`;
  }
  const lengths = [0, 1, 2].map((r) => Math.hypot(cell[3 * r], cell[3 * r + 1], cell[3 * r + 2]));
  const names = ['a', 'b', 'c'];
  for (let r = 0; r < 3; r++) {
    if (lengths[r] === 0) return `lattice vector ${names[r]} has zero length (${describeCell(cell)})`;
    // The squared length appears in dot products and metric tensors downstream.
    if (!Number.isFinite(lengths[r] * lengths[r])) {
      return `lattice vector ${names[r]} is too long to compute with (${describeCell(cell)})`;
    }
  }
  const lengthProduct = lengths[0] * lengths[1] * lengths[2];
  const det = cellDeterminant(cell);
  if (!Number.isFinite(lengthProduct) || !Number.isFinite(det)) {
    return `the cell volume overflows float64 (${describeCell(cell)})`;
  }
  if (lengthProduct === 0 || !(lengthProduct > 0)) {
    return `the cell volume underflows (${describeCell(cell)})`;
  }
  const normalized = Math.abs(det) / lengthProduct;
  if (!(normalized >= MIN_NORMALIZED_CELL_VOLUME)) {
    return (
      `the lattice vectors are (nearly) linearly dependent: volume ${det.toPrecision(3)} Å³ is ` +
      `${normalized.toExponential(2)} of |a||b||c| (${describeCell(cell)})`
    );
  }
  return null;
}

/** +1 for a right-handed cell (a·(b×c) > 0), −1 for a left-handed one. */
export function cellHandedness(cell: ArrayLike<number>): 1 | -1 {
  return cellDeterminant(cell) >= 0 ? 1 : -1;
}
