// Periodic images: how many a cutoff needs (with the bound every backend shares), their enumeration in the
// reference's order, their Cartesian translations, and the nearest image of a displacement among them.
//
// Nearest image without the image loop: with s = d·cell⁻¹ and n = round(s) on periodic axes, the image
// d' = d − n·cell is the nearest one whenever |n_a| ≤ 1 (so n is among the enumerated images, which
// reach at least ±1 on every periodic axis) and either
//   (a) the cell rows are mutually orthogonal (then |d − m·cell|² separates per axis), or
//   (b) |d'| < h_min/2, h_min the smallest perpendicular height of a periodic axis: any other image adds
//       a lattice vector t with |t| ≥ h_min, so |d' + t| > |d'|.
// Otherwise the pair falls back to the loop over the enumerated images. Same test on the GPU
// (shaders/node_attention/common.wgsl) and in PyTorch (training/scaip/graph.py).

import { cellDeterminant, cellFaceAreas, cellHeights, cellInverse, type Cell } from './cell';

/**
 * Most periodic images (translations, the central cell included) a graph may enumerate: 11³, i.e. up to 5
 * repeats each way along all three axes. Every atom is compared with every image of every atom (the CPU
 * runtime, the PyTorch reference and the GPU all-pairs search), so the work grows with N²·M; 1,331 covers
 * any real cell with the 6 Å cutoff of AllScAIP models (heights ≥ 1.2 Å; the thinnest primitive cells of
 * real crystals are about 2 Å), while a cell 0.05 Å thin or a cutoff of 1000 Å on a 20 Å box would need
 * thousands to millions. Training/scaip/graph.py uses the same limit.
 */
export const MAX_PERIODIC_IMAGES = 1331;

/** A cell too thin for the cutoff (or a cutoff absurd for the cell): refused before any image is enumerated. */
export class PeriodicImageError extends Error {
  constructor(
    /** Perpendicular heights of the cell, Å (NaN/0 for a degenerate cell). */
    readonly heights: [number, number, number],
    readonly cutoff: number,
    /** Repeats each way per axis the cutoff needs (0 on non-periodic axes). */
    readonly repeats: [number, number, number],
    /** Images in all, ∏(2·r + 1) (Infinity for a degenerate cell). */
    readonly images: number,
  ) {
    const f = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
    super(
      !Number.isFinite(images)
        ? `the cell is singular: its lattice vectors span no volume (heights ${heights.map(f).join(', ')} Å), so the ` +
          `model's ${f(cutoff)} Å cutoff sphere would need infinitely many images in all; fix the cell`
        : `the cell is too small for the model's ${f(cutoff)} Å cutoff: its heights are ${heights.map(f).join(', ')} Å, so ` +
          `a cutoff sphere needs ${repeats.join(', ')} periodic repeats each way, ${images.toLocaleString('en-US')} images ` +
          `in all; at most ${MAX_PERIODIC_IMAGES.toLocaleString('en-US')} (11³) are allowed, since every atom meets every ` +
          `image of every atom. ` +
          `Use a supercell with every periodic height ≥ ${f(cutoff / 5)} Å (cutoff/5), or fix the cell`,
    );
    this.name = 'PeriodicImageError';
  }
}

/**
 * Image repeats per axis: ceil(cutoff·|a_j × a_k|/V) = ceil(cutoff/h_i) on periodic axes (the reference's
 * rule). Throws PeriodicImageError, without enumerating anything, when the images would exceed
 * MAX_PERIODIC_IMAGES or the cell is degenerate.
 */
export function imageRepeats(cell: Cell | null, cutoff: number): [number, number, number] {
  if (!cell || !cell.pbc.some(Boolean)) return [0, 0, 0];
  const V = Math.abs(cellDeterminant(cell.vectors));
  const areas = cellFaceAreas(cell.vectors);
  const heights = cellHeights(cell.vectors);
  const reps: number[] = [];
  for (let i = 0; i < 3; i++) {
    if (!cell.pbc[i]) { reps.push(0); continue; }
    // cutoff·|a_j × a_k|/V as the reference computes it (same rounding at exact multiples)
    const r = Math.ceil((cutoff * areas[i]) / V);
    reps.push(heights[i] > 0 && Number.isFinite(r) ? r : Infinity);
  }
  const images = reps.reduce((m, r) => m * (2 * r + 1), 1);
  if (!(images <= MAX_PERIODIC_IMAGES)) {
    throw new PeriodicImageError(heights, cutoff, reps as [number, number, number], images);
  }
  return reps as [number, number, number];
}

/** Integer image triples in torch.cartesian_prod order (first axis slowest). */
export function enumerateImages(reps: [number, number, number]): Int32Array {
  const count = reps.reduce((m, r) => m * (2 * r + 1), 1);
  // imageRepeats has refused larger counts; this guards any other caller against an unbounded allocation.
  if (!(count <= MAX_PERIODIC_IMAGES)) {
    throw new RangeError(`${count} periodic images requested, more than the ${MAX_PERIODIC_IMAGES} imageRepeats allows`);
  }
  const out: number[] = [];
  for (let i = -reps[0]; i <= reps[0]; i++)
    for (let j = -reps[1]; j <= reps[1]; j++)
      for (let k = -reps[2]; k <= reps[2]; k++) out.push(i, j, k);
  return Int32Array.from(out);
}

/** Cartesian translations T_m = Σ_i shift_mi·cell_i (M×3, Å); all zero without a cell. */
export function imageTranslations(shifts: Int32Array, vectors: ArrayLike<number> | null): Float64Array {
  const M = shifts.length / 3;
  const T = new Float64Array(M * 3);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < 3; k++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += shifts[3 * m + i] * (vectors ? vectors[3 * i + k] : 0);
      T[3 * m + k] = s;
    }
  return T;
}

export interface MinimumImageMetric {
  /** Lattice vectors as rows, 9 numbers, Å. */
  cell: Float64Array;
  /** cell⁻¹ (row-major): s_a = Σ_k d_k·inverse[3k + a]. */
  inverse: Float64Array;
  pbc: [boolean, boolean, boolean];
  /** Rounded images with |d'|² below this (Å²) are the nearest (Infinity: always, 0: never). */
  acceptRadius2: number;
}

/** The shortcut's data for a cell; a system without a periodic axis has one image, which always wins. */
export function minimumImageMetric(cell: Cell | null): MinimumImageMetric {
  const periodic = !!cell && cell.pbc.some(Boolean);
  const vectors = periodic ? Float64Array.from(cell!.vectors) : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  const inverse = cellInverse(vectors);
  const pbc = (periodic ? [...cell!.pbc] : [false, false, false]) as [boolean, boolean, boolean];
  const dot = (a: number, b: number) => vectors[3 * a] * vectors[3 * b] + vectors[3 * a + 1] * vectors[3 * b + 1] + vectors[3 * a + 2] * vectors[3 * b + 2];
  let acceptRadius2 = Infinity;
  if (periodic && !(dot(0, 1) === 0 && dot(0, 2) === 0 && dot(1, 2) === 0)) {
    const heights = cellHeights(vectors);
    let hMin = Infinity;
    for (let a = 0; a < 3; a++) if (pbc[a]) hMin = Math.min(hMin, heights[a]);
    acceptRadius2 = (hMin / 2) ** 2;
  }
  return { cell: vectors, inverse, pbc, acceptRadius2 };
}

/**
 * Nearest image of the displacement d = pos_j − pos_i (Å) among `translations` (M×3): writes it to
 * out[o..o+2] and returns its squared length. Rounds in reduced coordinates where that is exact
 * (see the top of this file), else loops over the images (first minimum in their order).
 */
export function minimumImageDisplacement(
  m: MinimumImageMetric | null | undefined, translations: Float64Array, numImages: number,
  dx: number, dy: number, dz: number, out: Float64Array, o: number,
): number {
  if (m) {
    const inv = m.inverse, C = m.cell;
    let ex = dx, ey = dy, ez = dz, inSet = true;
    for (let a = 0; a < 3; a++) {
      if (!m.pbc[a]) continue;
      const n = Math.floor(dx * inv[a] + dy * inv[3 + a] + dz * inv[6 + a] + 0.5);
      if (n > 1 || n < -1) inSet = false;
      ex -= n * C[3 * a]; ey -= n * C[3 * a + 1]; ez -= n * C[3 * a + 2];
    }
    const r2 = ex * ex + ey * ey + ez * ez;
    if (inSet && r2 < m.acceptRadius2) {
      out[o] = ex; out[o + 1] = ey; out[o + 2] = ez;
      return r2;
    }
  }
  let best = Infinity;
  for (let k = 0; k < numImages; k++) {
    const x = dx + translations[3 * k], y = dy + translations[3 * k + 1], z = dz + translations[3 * k + 2];
    const r2 = x * x + y * y + z * z;
    if (r2 < best) { best = r2; out[o] = x; out[o + 1] = y; out[o + 2] = z; }
  }
  return best;
}
