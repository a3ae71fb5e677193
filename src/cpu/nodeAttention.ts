// All-to-all node self-attention over the atoms of one system (spec §1.5 step 5), with the
// optional ERoPE bias log(softplus(Σ_k W_hk sinc(ω_k r_ij)) + 1e-6), r_ij the minimum-image distance
// or the smooth periodic one (eropeDistance.ts). Rows are processed one
// query at a time (pair distances and the bias recomputed on the fly), so no N×N array is
// ever stored; the backward pass recomputes each row's probabilities the same way.
// The reference also multiplies w by a per-head constant (#valid pairs / Σ w); it cancels in
// every row's softmax and so is left out.

import type { AttentionParams } from '../model/params';
import { attentionBlockBackward, attentionBlockForward, type AttentionBlockCache } from './attentionBlock';
import { sinc, sincDerivative } from './features';
import type { GeometryGradient } from './geometryGradient';
import { pairDistancesFrom, smoothPairDistance, type PairGeometry } from './eropeDistance';

export type NodeAttentionCache = AttentionBlockCache;

/** ERoPE of one layer: frequencies ω (Å⁻¹) and the mixing weights W (num_heads × num_freq). */
export interface Erope { omega: Float64Array; radialWeight: Float64Array }

export function softplus(z: number): number { return z > 20 ? z : Math.log1p(Math.exp(z)); }
export function softplusDerivative(z: number): number { return z > 20 ? 1 : 1 / (1 + Math.exp(-z)); }

interface RowScratch {
  dist: Float64Array; disp: Float64Array;
  /** z_h(i,j) = Σ_k W_hk sinc(ω_k r_ij), nh×N. */
  z: Float64Array;
  /** Probabilities, nh×N. */
  P: Float64Array;
}

function computeRow(
  i: number, n: number, nh: number, d: number, q: Float64Array, k: Float64Array,
  geometry: PairGeometry, erope: Erope | null, s: RowScratch,
): void {
  const H = nh * d;
  const scale = 1 / Math.sqrt(d);
  if (erope) {
    const nf = erope.omega.length;
    pairDistancesFrom(geometry, i, s.dist, s.disp);
    s.z.fill(0);
    for (let j = 0; j < n; j++) {
      const r = s.dist[j];
      for (let f = 0; f < nf; f++) {
        const b = sinc(erope.omega[f] * r);
        for (let h = 0; h < nh; h++) s.z[h * n + j] += erope.radialWeight[h * nf + f] * b;
      }
    }
  }
  for (let h = 0; h < nh; h++) {
    const qo = i * H + h * d;
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      const ko = j * H + h * d;
      let sc = 0;
      for (let c = 0; c < d; c++) sc += q[qo + c] * k[ko + c];
      sc *= scale;
      if (erope) sc += Math.log(softplus(s.z[h * n + j]) + 1e-6);
      s.P[h * n + j] = sc;
      if (sc > max) max = sc;
    }
    let sum = 0;
    for (let j = 0; j < n; j++) { const e = Math.exp(s.P[h * n + j] - max); s.P[h * n + j] = e; sum += e; }
    for (let j = 0; j < n; j++) s.P[h * n + j] /= sum;
  }
}

function scratch(n: number, nh: number): RowScratch {
  return { dist: new Float64Array(n), disp: new Float64Array(3 * n), z: new Float64Array(nh * n), P: new Float64Array(nh * n) };
}

/** o = softmax(q·kᵀ/√d + bias)·v per head, over all atoms of the system (q, k, v: N×H). */
export function nodeAttentionCore(
  q: Float64Array, k: Float64Array, v: Float64Array, n: number, nh: number, geometry: PairGeometry, erope: Erope | null,
): Float64Array {
  const d = q.length / n / nh;
  const H = nh * d;
  const o = new Float64Array(n * H);
  const s = scratch(n, nh);
  for (let i = 0; i < n; i++) {
    computeRow(i, n, nh, d, q, k, geometry, erope, s);
    for (let h = 0; h < nh; h++) {
      const oo = i * H + h * d;
      for (let j = 0; j < n; j++) {
        const pij = s.P[h * n + j];
        const vo = j * H + h * d;
        for (let c = 0; c < d; c++) o[oo + c] += pij * v[vo + c];
      }
    }
  }
  return o;
}

/** Backward of nodeAttentionCore: dq, dk, dv, and the ERoPE pair-distance gradients into `geometryGrad`. */
export function nodeAttentionCoreBackward(
  q: Float64Array, k: Float64Array, v: Float64Array, dO: Float64Array, n: number, nh: number,
  geometry: PairGeometry, erope: Erope | null, geometryGrad: GeometryGradient,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const d = q.length / n / nh;
  const H = nh * d;
  const scale = 1 / Math.sqrt(d);
  const dq = new Float64Array(n * H), dk = new Float64Array(n * H), dv = new Float64Array(n * H);
  const s = scratch(n, nh);
  const dP = new Float64Array(n);
  const dz = new Float64Array(nh * n);
  const g = new Float64Array(3);
  const drdDisp = new Float64Array(3), drdStrain = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    computeRow(i, n, nh, d, q, k, geometry, erope, s);
    for (let h = 0; h < nh; h++) {
      const io = i * H + h * d;
      let D = 0;
      for (let j = 0; j < n; j++) {
        const jo = j * H + h * d;
        let t = 0;
        for (let ch = 0; ch < d; ch++) t += dO[io + ch] * v[jo + ch];
        dP[j] = t;
        const pij = s.P[h * n + j];
        D += pij * t;
        for (let ch = 0; ch < d; ch++) dv[jo + ch] += pij * dO[io + ch];
      }
      for (let j = 0; j < n; j++) {
        const ds = s.P[h * n + j] * (dP[j] - D);
        const jo = j * H + h * d;
        const t = ds * scale;
        for (let ch = 0; ch < d; ch++) {
          dq[io + ch] += t * k[jo + ch];
          dk[jo + ch] += t * q[io + ch];
        }
        if (erope) {
          // bias = log(softplus(z) + 1e-6)
          const z = s.z[h * n + j];
          dz[h * n + j] = (ds * softplusDerivative(z)) / (softplus(z) + 1e-6);
        }
      }
    }
    if (erope) {
      const nf = erope.omega.length;
      const smooth = geometry.smoothMetric;
      for (let j = 0; j < n; j++) {
        const r = s.dist[j];
        if (r === 0) continue;
        let dr = 0;
        for (let f = 0; f < nf; f++) {
          const w = erope.omega[f];
          const db = w * sincDerivative(w * r);
          for (let h = 0; h < nh; h++) dr += dz[h * n + j] * erope.radialWeight[h * nf + f] * db;
        }
        if (smooth) {
          // r̃ depends on the displacement and the cell: its own strain derivative, not disp ⊗ g.
          smoothPairDistance(smooth, s.disp[3 * j], s.disp[3 * j + 1], s.disp[3 * j + 2], drdDisp, drdStrain);
          for (let qd = 0; qd < 3; qd++) g[qd] = dr * drdDisp[qd];
          geometryGrad.addPair(i, j, g, drdStrain, dr);
          continue;
        }
        for (let qd = 0; qd < 3; qd++) g[qd] = (dr * s.disp[3 * j + qd]) / r;
        geometryGrad.addDisplacement(i, j, s.disp, 3 * j, g, 0);
      }
    }
  }
  return { dq, dk, dv };
}

/** x ↦ x + s · Out(MHA(RMSNorm(x))) over all atoms. */
export function nodeAttentionForward(
  p: AttentionParams, x: Float64Array, n: number, nh: number, geometry: PairGeometry, erope: Erope | null, eps: number,
): { y: Float64Array; cache: NodeAttentionCache } {
  return attentionBlockForward(p, x, n, eps, (q, k, v) => nodeAttentionCore(q, k, v, n, nh, geometry, erope));
}

export function nodeAttentionBackward(
  p: AttentionParams, c: NodeAttentionCache, dy: Float64Array, n: number, nh: number,
  geometry: PairGeometry, erope: Erope | null, geometryGrad: GeometryGradient,
): Float64Array {
  return attentionBlockBackward(p, c, dy, n, (q, k, v, dO) => nodeAttentionCoreBackward(q, k, v, dO, n, nh, geometry, erope, geometryGrad));
}
