// The smooth periodic pair distance r̃ that ERoPE uses when `architecture.erope_smooth_minimum_image`
// is on (docs/model-format.md), with its gradients in the displacement and the strain.
//
// The minimum image switches image at half the box: the energy stays continuous, the force does not.
// With s = d·cell⁻¹ (d = pos_j − pos_i) and, per periodic axis a, σ = sin(π s_a), κ = cos(π s_a):
//   w_a = σκ(3 + 2σ²)/(3π),  h_a = 4σ⁶(2 + σ²)/(9π²)   (non-periodic axis: w_a = s_a, h_a = 0)
//   r̃² = |Σ_a w_a·cell_a|² + Σ_a h_a·|cell_a|²
// Periodic and infinitely differentiable in every s_a, r̃ = r(1 + O(s⁴)), and a function of s and the
// metric cell·cellᵀ only, so it turns with positions and cell together. Same as training/scaip/graph.py.

import type { Cell } from './graph';

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
  const [a, b, c, d, e, f, g, h, i] = cell.vectors;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  // buildNeighborGraph has already refused a singular cell (wrapping needs the inverse too).
  const inverse = Float64Array.from([
    A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ]);
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
    const s = dx * inv[a] + dy * inv[3 + a] + dz * inv[6 + a];
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
