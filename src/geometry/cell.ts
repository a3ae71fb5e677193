// Cell (lattice) algebra for every part of the workbench: runtimes, MD, structure files and the viewer.
// A cell is 9 numbers row-major: rows are the lattice vectors a, b, c (Å), as in ASE. A position is
// r = s·cell with s its fractional (reduced) coordinates, so s = r·cell⁻¹ (row vectors).
//
// The float64 runtime's golden parity rests on these exact operation orders (products summed left to
// right, the inverse as cofactors divided by the determinant): change them only with the golden tests.

import type { Pbc } from '../io/structure';

export type Vec3 = [number, number, number];

/** Lattice vectors (rows, 9 numbers, Å) with the axes along which the system repeats. */
export interface Cell {
  vectors: Float64Array;
  pbc: Pbc;
}

/** A cell with its inverse, for repeated fractional-coordinate work (wrapping, minimum image). */
export interface CellFrame extends Cell {
  /** cell⁻¹ (row-major): s_a = Σ_k r_k·inverse[3k + a]. */
  inverse: Float64Array;
}

/** The lattice vectors span no volume (det = 0, or too small for 1/det to be finite). */
export class SingularCellError extends RangeError {
  constructor(readonly cell: ArrayLike<number>) {
    super(`the cell is singular (zero volume): its lattice vectors are linearly dependent (${describeCell(cell)})`);
    this.name = 'SingularCellError';
  }
}

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

/** Areas of the faces opposite each axis (Å²): |b×c|, |c×a|, |a×b|. */
export function cellFaceAreas(cell: ArrayLike<number>): [number, number, number] {
  const v = [0, 1, 2].map((r) => [cell[3 * r], cell[3 * r + 1], cell[3 * r + 2]]);
  const crossNorm = (p: number[], q: number[]) =>
    Math.hypot(p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]);
  return [crossNorm(v[1], v[2]), crossNorm(v[2], v[0]), crossNorm(v[0], v[1])];
}

/**
 * Perpendicular heights of a cell (Å): the distance between opposite faces, V/|b×c|, V/|c×a|, V/|a×b|.
 * A cutoff sphere of radius r needs ⌈r/h_i⌉ periodic images along each direction i, so the thinnest
 * height, not the vector length, says whether a cell is too thin for a model. Non-finite for a
 * degenerate cell (check cellProblem first).
 */
export function cellHeights(cell: ArrayLike<number>): [number, number, number] {
  const volume = Math.abs(cellDeterminant(cell));
  const areas = cellFaceAreas(cell);
  return [volume / areas[0], volume / areas[1], volume / areas[2]];
}

/** cell⁻¹ (row-major), so that s = r·cell⁻¹; throws SingularCellError when it does not exist in float64. */
export function cellInverse(cell: ArrayLike<number>): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = [cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7], cell[8]];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const inv = Float64Array.from([
    A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ]);
  if (!(det !== 0 && inv.every(Number.isFinite))) throw new SingularCellError(cell);
  return inv;
}

/** The periodic cell of a structure, or null when it has no cell or no periodic axis. */
export function periodicCell(cell: Float64Array | null, pbc: Pbc): Cell | null {
  if (!cell || !pbc.some(Boolean)) return null;
  return { vectors: cell, pbc };
}

/** Cell and inverse for repeated work; null without a periodic axis or for a singular cell (nothing to wrap by). */
export function cellFrame(cell: ArrayLike<number> | null, pbc: Pbc): CellFrame | null {
  if (!cell || !pbc.some(Boolean)) return null;
  const vectors = Float64Array.from(cell);
  try {
    return { vectors, inverse: cellInverse(vectors), pbc };
  } catch (e) {
    if (e instanceof SingularCellError) return null;
    throw e;
  }
}

/** Fractional coordinate a of the Cartesian vector (x, y, z) (Å): s_a = r·(column a of cell⁻¹). */
export function fractional(inverse: ArrayLike<number>, x: number, y: number, z: number, a: number): number {
  return x * inverse[a] + y * inverse[3 + a] + z * inverse[6 + a];
}

/**
 * Fractional coordinates (N×3) of positions (N×3, Å), those of the axes with `wrap[k]` brought into [0, 1).
 */
export function reducedPositions(positions: ArrayLike<number>, inverse: ArrayLike<number>, wrap: ArrayLike<boolean>): Float64Array {
  const f = new Float64Array(positions.length);
  for (let a = 0; a < positions.length / 3; a++) {
    const x = positions[3 * a], y = positions[3 * a + 1], z = positions[3 * a + 2];
    for (let k = 0; k < 3; k++) {
      const s = fractional(inverse, x, y, z, k);
      f[3 * a + k] = wrap[k] ? s - Math.floor(s) : s;
    }
  }
  return f;
}

/**
 * Positions (N×3, Å) with each fractional coordinate of a periodic axis brought into [0, 1), as ASE's
 * wrap and fairchem's data loading do; a copy of the input without a frame.
 */
export function wrapPositions(positions: ArrayLike<number>, frame: CellFrame | null, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(positions.length);
  if (!frame) {
    for (let k = 0; k < positions.length; k++) r[k] = positions[k];
    return r;
  }
  const v = frame.vectors;
  const f = reducedPositions(positions, frame.inverse, frame.pbc);
  for (let a = 0; a < positions.length / 3; a++)
    for (let k = 0; k < 3; k++) r[3 * a + k] = f[3 * a] * v[k] + f[3 * a + 1] * v[3 + k] + f[3 * a + 2] * v[6 + k];
  return r;
}

/**
 * Nearest image of the displacement d[o..o+2] (Å), in place: whole lattice vectors n = round(s) removed
 * along periodic axes. Exact for orthogonal cell rows and for any cell while |d'| < h_min/2; a strongly
 * skewed cell can leave a nearer image (periodicImages.minimumImageDisplacement checks and loops).
 */
export function minimumImage<T extends { [k: number]: number }>(d: T, frame: CellFrame | null, o = 0): T {
  if (!frame) return d;
  const v = frame.vectors, x = d[o], y = d[o + 1], z = d[o + 2];
  for (let a = 0; a < 3; a++) {
    const n = imageShift(frame, x, y, z, a);
    if (n !== 0) for (let k = 0; k < 3; k++) d[o + k] -= n * v[3 * a + k];
  }
  return d;
}

/** Whole lattice vectors along axis a that the minimum image removes from (x, y, z) (0 on an open axis). */
export function imageShift(frame: CellFrame, x: number, y: number, z: number, a: number): number {
  return frame.pbc[a] ? Math.round(fractional(frame.inverse, x, y, z, a)) : 0;
}

/** Displacement r_j − r_i (Å), minimum image. */
export function displacement(positions: ArrayLike<number>, i: number, j: number, frame: CellFrame | null): Vec3 {
  const d: Vec3 = [
    positions[3 * j] - positions[3 * i], positions[3 * j + 1] - positions[3 * i + 1], positions[3 * j + 2] - positions[3 * i + 2],
  ];
  return minimumImage(d, frame);
}

/**
 * Continues an unwrapped trajectory: each atom moves by the minimum image of its step since the previous
 * (possibly wrapped) frame. Right while no atom moves half a box height between frames.
 */
export function unwrapStep(prevUnwrapped: ArrayLike<number>, next: ArrayLike<number>, prevRaw: ArrayLike<number>, frame: CellFrame | null): Float64Array {
  const out = new Float64Array(next.length);
  const d = [0, 0, 0];
  for (let a = 0; a < next.length / 3; a++) {
    for (let k = 0; k < 3; k++) d[k] = next[3 * a + k] - prevRaw[3 * a + k];
    minimumImage(d, frame);
    for (let k = 0; k < 3; k++) out[3 * a + k] = prevUnwrapped[3 * a + k] + d[k];
  }
  return out;
}

/** Same 9 numbers, or both null. */
export function sameCell(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (a === null || b === null) return a === b;
  for (let k = 0; k < 9; k++) if (a[k] !== b[k]) return false;
  return true;
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
