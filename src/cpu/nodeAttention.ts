// All-to-all node self-attention over the atoms of one system (spec §1.5 step 5), with the
// optional ERoPE bias log(softplus(Σ_k W_hk sinc(ω_k r_ij)) + 1e-6). Rows are processed one
// query at a time (pair distances and the bias recomputed on the fly), so no N×N array is
// ever stored; the backward pass recomputes each row's probabilities the same way.
// The reference also multiplies w by a per-head constant (#valid pairs / Σ w); it cancels in
// every row's softmax and so is left out.

import type { AttentionParams } from './params';
import type { NeighborGraph } from './graph';
import { linear, linearBackward, rmsNorm, rmsNormBackward, type RmsNormCache } from './ops';
import { pairDistancesFrom, sinc, sincDerivative } from './features';
import type { GeometryGradient } from './geometryGradient';

export interface NodeAttentionCache { norm: RmsNormCache; q: Float64Array; k: Float64Array; v: Float64Array }

export interface Erope { omega: Float64Array }

function softplus(z: number): number { return z > 20 ? z : Math.log1p(Math.exp(z)); }
function softplusDerivative(z: number): number { return z > 20 ? 1 : 1 / (1 + Math.exp(-z)); }

interface RowScratch {
  dist: Float64Array; disp: Float64Array;
  /** z_h(i,j) = Σ_k W_hk sinc(ω_k r_ij), nh×N. */
  z: Float64Array;
  /** Probabilities, nh×N. */
  P: Float64Array;
}

function computeRow(
  i: number, n: number, nh: number, d: number, q: Float64Array, k: Float64Array,
  graph: NeighborGraph, p: AttentionParams, erope: Erope | null, s: RowScratch,
): void {
  const H = nh * d;
  const scale = 1 / Math.sqrt(d);
  const nf = erope ? erope.omega.length : 0;
  if (erope && p.radialWeight) {
    pairDistancesFrom(graph, i, s.dist, s.disp);
    s.z.fill(0);
    for (let j = 0; j < n; j++) {
      const r = s.dist[j];
      for (let f = 0; f < nf; f++) {
        const b = sinc(erope.omega[f] * r);
        for (let h = 0; h < nh; h++) s.z[h * n + j] += p.radialWeight[h * nf + f] * b;
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

export function nodeAttentionForward(
  p: AttentionParams, x: Float64Array, n: number, nh: number, graph: NeighborGraph, erope: Erope | null, eps: number,
): { y: Float64Array; cache: NodeAttentionCache } {
  const H = p.q.inDim;
  const d = H / nh;
  const { y: xn, cache: norm } = rmsNorm(x, n, H, p.norm, eps);
  const q = linear(xn, n, H, p.q.W, p.q.b, H);
  const k = linear(xn, n, H, p.k.W, p.k.b, H);
  const v = linear(xn, n, H, p.v.W, p.v.b, H);
  const o = new Float64Array(n * H);
  const s = scratch(n, nh);
  for (let i = 0; i < n; i++) {
    computeRow(i, n, nh, d, q, k, graph, p, erope, s);
    for (let h = 0; h < nh; h++) {
      const oo = i * H + h * d;
      for (let j = 0; j < n; j++) {
        const pij = s.P[h * n + j];
        const vo = j * H + h * d;
        for (let c = 0; c < d; c++) o[oo + c] += pij * v[vo + c];
      }
    }
  }
  const out = linear(o, n, H, p.out.W, p.out.b, H);
  const y = new Float64Array(n * H);
  for (let i = 0; i < y.length; i++) y[i] = x[i] + p.resScale * out[i];
  return { y, cache: { norm, q, k, v } };
}

export function nodeAttentionBackward(
  p: AttentionParams, c: NodeAttentionCache, dy: Float64Array, n: number, nh: number,
  graph: NeighborGraph, erope: Erope | null, geometry: GeometryGradient,
): Float64Array {
  const H = p.q.inDim;
  const d = H / nh;
  const scale = 1 / Math.sqrt(d);
  const dOut = new Float64Array(n * H);
  for (let i = 0; i < dOut.length; i++) dOut[i] = p.resScale * dy[i];
  const dO = linearBackward(dOut, n, H, p.out.W, H);
  const dq = new Float64Array(n * H), dk = new Float64Array(n * H), dv = new Float64Array(n * H);
  const { q, k, v } = c;
  const s = scratch(n, nh);
  const nf = erope ? erope.omega.length : 0;
  const dP = new Float64Array(n);
  const dz = new Float64Array(nh * n);
  const g = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    computeRow(i, n, nh, d, q, k, graph, p, erope, s);
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
    if (erope && p.radialWeight) {
      for (let j = 0; j < n; j++) {
        const r = s.dist[j];
        if (r === 0) continue;
        let dr = 0;
        for (let f = 0; f < nf; f++) {
          const w = erope.omega[f];
          const db = w * sincDerivative(w * r);
          for (let h = 0; h < nh; h++) dr += dz[h * n + j] * p.radialWeight[h * nf + f] * db;
        }
        for (let qd = 0; qd < 3; qd++) g[qd] = (dr * s.disp[3 * j + qd]) / r;
        geometry.addDisplacement(i, j, s.disp, 3 * j, g, 0);
      }
    }
  }
  const dxn = linearBackward(dq, n, H, p.q.W, H);
  const dxk = linearBackward(dk, n, H, p.k.W, H);
  const dxv = linearBackward(dv, n, H, p.v.W, H);
  for (let i = 0; i < dxn.length; i++) dxn[i] += dxk[i] + dxv[i];
  const dx = rmsNormBackward(dxn, n, H, p.norm, c.norm);
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i];
  return dx;
}
