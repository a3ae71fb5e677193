// ERoPE's pair distance: the minimum image over the graph's enumerated images (default), or the smooth
// periodic distance r̃ when `architecture.erope_smooth_minimum_image` is on (docs/model-format.md), with
// its gradients in the displacement and the strain. The minimum image itself is
// geometry/periodicImages.ts (rounding in reduced coordinates where that is exact, else the image loop).
//
// The minimum image switches image at half the box: the energy stays continuous, the force does not.
// With s = d·cell⁻¹ (d = pos_j − pos_i) and, per periodic axis a, σ = sin(π s_a), κ = cos(π s_a):
//   w_a = σκ(3 + 2σ²)/(3π),  h_a = 4σ⁶(2 + σ²)/(9π²)   (non-periodic axis: w_a = s_a, h_a = 0)
//   r̃² = |Σ_a w_a·cell_a|² + Σ_a h_a·|cell_a|²
// Periodic and infinitely differentiable in every s_a, r̃ = r(1 + O(s⁴)), and a function of s and the
// metric cell·cellᵀ only, so it turns with positions and cell together. Same as training/scaip/graph.py.

import { cellInverse, fractional, type Cell } from '../geometry/cell';
import { minimumImageDisplacement, type MinimumImageMetric } from '../geometry/periodicImages';

/**
 * Minimum-image distances from atom i to every atom j over the enumerated images (the
 * reference's dist_pairwise), with the displacement of the minimising image; or, with
 * `smoothMetric`, the smooth periodic distance r̃ and the plain displacement.
 */
export interface PairGeometry {
  numAtoms: number;
  /** N×3, Å (wrapped into the cell). */
  positions: Float64Array;
  /** M×3 image translations, Å. */
  imageTranslations: Float64Array;
  numImages: number;
  /** The cell for the image loop's shortcut (minimumImageMetric); without it every pair takes the loop. */
  minimumImage?: MinimumImageMetric | null;
  /** Set when ERoPE uses the smooth periodic distance (erope_smooth_minimum_image) instead of the minimum image. */
  smoothMetric?: SmoothPairMetric | null;
}

/**
 * ERoPE distances from atom i to every atom j (outDist, N) and the displacements they came from
 * (outDisp, N×3): the minimum image, or r̃ with the plain displacement when `smoothMetric` is set.
 */
export function pairDistancesFrom(graph: PairGeometry, i: number, outDist: Float64Array, outDisp: Float64Array): void {
  const p = graph.positions;
  const smooth = graph.smoothMetric;
  for (let j = 0; j < graph.numAtoms; j++) {
    const bx = p[3 * j] - p[3 * i], by = p[3 * j + 1] - p[3 * i + 1], bz = p[3 * j + 2] - p[3 * i + 2];
    if (smooth) {
      // outDisp keeps the plain displacement: the backward pass recomputes r̃'s gradients from it.
      outDist[j] = smoothPairDistance(smooth, bx, by, bz);
      outDisp[3 * j] = bx; outDisp[3 * j + 1] = by; outDisp[3 * j + 2] = bz;
      continue;
    }
    const r2 = minimumImageDisplacement(graph.minimumImage, graph.imageTranslations, graph.numImages, bx, by, bz, outDisp, 3 * j);
    outDist[j] = r2 <= 1e-12 ? 0 : Math.sqrt(r2);
  }
}


export interface SmoothPairMetric {
  /** Lattice vectors as rows, 9 numbers, Å. */
  cell: Float64Array;
  /** cell⁻¹ (row-major): s_a = Σ_k d_k·inverse[3k + a]. */
  inverse: Float64Array;
  pbc: [boolean, boolean, boolean];
  /** |cell_a|², Å². */
  norms2: Float64Array;
}

export function smoothPairMetric(cell: Cell): SmoothPairMetric {
  // buildNeighborGraph has already refused a singular cell (wrapping needs the inverse too).
  const inverse = cellInverse(cell.vectors);
  const v = cell.vectors;
  const norms2 = Float64Array.from([0, 1, 2].map((r) => v[3 * r] ** 2 + v[3 * r + 1] ** 2 + v[3 * r + 2] ** 2));
  return { cell: Float64Array.from(v), inverse, pbc: [...cell.pbc] as [boolean, boolean, boolean], norms2 };
}

const PI = Math.PI;

/**
 * r̃ of the displacement d (Å). With `grad` (3) it also writes ∂r̃/∂d, and with `strain` (9, row-major)
 * ∂r̃/∂ε for the homogeneous deformation of positions and cell (d → d(1+ε), cell → cell(1+ε));
 * both are left zero at r̃ = 0 (the self pair, where sinc(ω r̃) is flat).
 */
export function smoothPairDistance(
  m: SmoothPairMetric, dx: number, dy: number, dz: number, grad?: Float64Array, strain?: Float64Array,
): number {
  const inv = m.inverse, C = m.cell;
  const w = [0, 0, 0], h = [0, 0, 0], dw = [1, 1, 1], dh = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const s = fractional(inv, dx, dy, dz, a);
    if (!m.pbc[a]) { w[a] = s; continue; }
    const sn = Math.sin(PI * s), cs = Math.cos(PI * s);
    const sn2 = sn * sn, cs2 = cs * cs;
    const sn5 = sn2 * sn2 * sn;
    w[a] = (sn * cs * (3 + 2 * sn2)) / (3 * PI);
    h[a] = (4 * sn5 * sn * (2 + sn2)) / (9 * PI * PI);
    dw[a] = ((cs2 - sn2) * (3 + 2 * sn2) + 4 * sn2 * cs2) / 3;
    dh[a] = (16 * cs * sn5 * (3 + 2 * sn2)) / (9 * PI);
  }
  const u = [0, 0, 0];
  for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) u[k] += w[a] * C[3 * a + k];
  let q = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
  for (let a = 0; a < 3; a++) q += h[a] * m.norms2[a];
  const r = q <= 1e-12 ? 0 : Math.sqrt(q);
  if (grad) grad.fill(0);
  if (strain) strain.fill(0);
  if (r === 0) return 0;
  if (grad) {
    // ∂q/∂s_a = 2 (u·cell_a) w'_a + |cell_a|² h'_a; ∂s_a/∂d_k = inverse[3k + a]; ∂r̃/∂q = 1/(2 r̃)
    const dqds = [0, 1, 2].map((a) =>
      2 * (u[0] * C[3 * a] + u[1] * C[3 * a + 1] + u[2] * C[3 * a + 2]) * dw[a] + m.norms2[a] * dh[a]);
    for (let k = 0; k < 3; k++)
      grad[k] = (dqds[0] * inv[3 * k] + dqds[1] * inv[3 * k + 1] + dqds[2] * inv[3 * k + 2]) / (2 * r);
  }
  if (strain) {
    // s is unchanged by the deformation; u and the cell rows turn into u(1+ε), cell_a(1+ε).
    for (let p = 0; p < 3; p++)
      for (let k = 0; k < 3; k++) {
        let t = u[p] * u[k];
        for (let a = 0; a < 3; a++) t += h[a] * C[3 * a + p] * C[3 * a + k];
        strain[3 * p + k] = t / r;
      }
  }
  return r;
}
