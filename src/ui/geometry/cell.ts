// Periodic-cell helpers for the viewer and measurements: fractional coordinates, minimum image, wrapping.
// Cell rows are the lattice vectors a, b, c (as in Structure); a position is r = f · H with f fractional.

import type { Pbc } from '../../io/structure';

export type Vec3 = [number, number, number];

/** A cell with its inverse, ready for repeated minimum-image work. `null` cell means no periodicity. */
export interface CellFrame {
  h: Float64Array; // 9, rows a, b, c
  inv: Float64Array; // 9, inverse of h (row-vector convention: f = r · inv)
  pbc: Pbc;
}

export function makeCellFrame(cell: ArrayLike<number> | null, pbc: Pbc): CellFrame | null {
  if (!cell || !(pbc[0] || pbc[1] || pbc[2])) return null;
  const h = Float64Array.from(cell);
  const inv = invert3(h);
  if (!inv) return null;
  return { h, inv, pbc };
}

export function invert3(m: ArrayLike<number>): Float64Array | null {
  const [a, b, c, d, e, f, g, h, i] = [m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) return null;
  const r = 1 / det;
  return Float64Array.from([
    A * r, -(b * i - c * h) * r, (b * f - c * e) * r,
    B * r, (a * i - c * g) * r, -(a * f - c * d) * r,
    C * r, -(a * h - b * g) * r, (a * e - b * d) * r,
  ]);
}

export function cellVolume(cell: ArrayLike<number>): number {
  const [a, b, c, d, e, f, g, h, i] = [cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7], cell[8]];
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g));
}

/**
 * Minimum-image version of displacement d (in place). Rounding fractional components is exact for
 * orthorhombic cells and for mildly skewed ones; it is what MD codes use for cells reduced to standard form.
 */
export function minimumImage(d: Vec3, cf: CellFrame | null): Vec3 {
  if (!cf) return d;
  const { h, inv, pbc } = cf;
  let f0 = d[0] * inv[0] + d[1] * inv[3] + d[2] * inv[6];
  let f1 = d[0] * inv[1] + d[1] * inv[4] + d[2] * inv[7];
  let f2 = d[0] * inv[2] + d[1] * inv[5] + d[2] * inv[8];
  if (pbc[0]) f0 -= Math.round(f0);
  if (pbc[1]) f1 -= Math.round(f1);
  if (pbc[2]) f2 -= Math.round(f2);
  d[0] = f0 * h[0] + f1 * h[3] + f2 * h[6];
  d[1] = f0 * h[1] + f1 * h[4] + f2 * h[7];
  d[2] = f0 * h[2] + f1 * h[5] + f2 * h[8];
  return d;
}

/** Displacement from atom i to atom j (r_j − r_i), minimum image. */
export function displacement(pos: ArrayLike<number>, i: number, j: number, cf: CellFrame | null): Vec3 {
  const d: Vec3 = [pos[3 * j] - pos[3 * i], pos[3 * j + 1] - pos[3 * i + 1], pos[3 * j + 2] - pos[3 * i + 2]];
  return minimumImage(d, cf);
}

/** Positions wrapped into the cell along periodic directions (fractional coordinates in [0, 1)). */
export function wrapPositions(pos: ArrayLike<number>, cf: CellFrame | null, out?: Float64Array): Float64Array {
  const n = pos.length / 3;
  const r = out ?? new Float64Array(pos.length);
  if (!cf) {
    for (let k = 0; k < pos.length; k++) r[k] = pos[k];
    return r;
  }
  const { h, inv, pbc } = cf;
  for (let a = 0; a < n; a++) {
    const x = pos[3 * a], y = pos[3 * a + 1], z = pos[3 * a + 2];
    let f0 = x * inv[0] + y * inv[3] + z * inv[6];
    let f1 = x * inv[1] + y * inv[4] + z * inv[7];
    let f2 = x * inv[2] + y * inv[5] + z * inv[8];
    if (pbc[0]) f0 -= Math.floor(f0);
    if (pbc[1]) f1 -= Math.floor(f1);
    if (pbc[2]) f2 -= Math.floor(f2);
    r[3 * a] = f0 * h[0] + f1 * h[3] + f2 * h[6];
    r[3 * a + 1] = f0 * h[1] + f1 * h[4] + f2 * h[7];
    r[3 * a + 2] = f0 * h[2] + f1 * h[5] + f2 * h[8];
  }
  return r;
}

/**
 * Keeps trajectories continuous: given the previous unwrapped positions and new (possibly wrapped)
 * positions, adds to each atom the minimum-image step since the previous frame. Valid while no atom
 * moves more than half a box length between frames, which holds at a few frames per second of MD.
 */
export function unwrapStep(prevUnwrapped: Float64Array, next: ArrayLike<number>, prevRaw: ArrayLike<number>, cf: CellFrame | null): Float64Array {
  const out = new Float64Array(next.length);
  const d: Vec3 = [0, 0, 0];
  for (let a = 0; a < next.length / 3; a++) {
    d[0] = next[3 * a] - prevRaw[3 * a];
    d[1] = next[3 * a + 1] - prevRaw[3 * a + 1];
    d[2] = next[3 * a + 2] - prevRaw[3 * a + 2];
    minimumImage(d, cf);
    out[3 * a] = prevUnwrapped[3 * a] + d[0];
    out[3 * a + 1] = prevUnwrapped[3 * a + 1] + d[1];
    out[3 * a + 2] = prevUnwrapped[3 * a + 2] + d[2];
  }
  return out;
}
