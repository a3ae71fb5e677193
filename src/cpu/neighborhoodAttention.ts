// Neighborhood self-attention over each atom's edge slots (spec §1.5 steps 1–2), forward and
// backward. Edges are kept in one array; a layout is a grouping of edge ids into rows: by
// center (source layout) or by neighbor (destination layout). Within a row every slot attends
// to every slot, with the envelope key bias −x²/(1−x²) and optionally the Legendre angle
// encoding (LAE): channel c of a head of degree l(c) contributes q_c k_c Σ_m Ŷ_lm(u_i) Ŷ_lm(u_j).

import type { AttentionParams } from '../model/params';
import { attentionBlockBackward, attentionBlockForward, type AttentionBlockCache } from './attentionBlock';

export interface EdgeLayout {
  rowStart: Int32Array; // rows+1
  edges: Int32Array | null; // edge ids in row order; null = identity (rows are contiguous)
}

export interface AngleEncoding {
  /** Degree of each channel within a head (length = head dim). */
  channelDegree: Int32Array;
  maxDegree: number;
  /** Per-edge SH table (E×shSize); Ŷ_l = Y_l/√(2l+1). */
  sh: Float64Array;
  shSize: number;
}

export type NeighborhoodAttentionCache = AttentionBlockCache;

interface Dims { E: number; H: number; nh: number; d: number }

/** G[(i·g + j)·L + l] = Σ_m Ŷ_lm(u_i)Ŷ_lm(u_j) for the slots of one row. */
function angleKernel(lae: AngleEncoding, ids: ArrayLike<number>, g: number): Float64Array {
  const L = lae.maxDegree + 1;
  const G = new Float64Array(g * g * L);
  for (let i = 0; i < g; i++)
    for (let j = 0; j < g; j++)
      for (let l = 0; l < L; l++) {
        let s = 0;
        const oi = ids[i] * lae.shSize, oj = ids[j] * lae.shSize;
        for (let c = l * l; c < (l + 1) * (l + 1); c++) s += lae.sh[oi + c] * lae.sh[oj + c];
        G[(i * g + j) * L + l] = s / (2 * l + 1);
      }
  return G;
}

function rowIds(layout: EdgeLayout, r: number): ArrayLike<number> {
  const a = layout.rowStart[r], b = layout.rowStart[r + 1];
  if (layout.edges) return layout.edges.subarray(a, b);
  const ids = new Int32Array(b - a);
  for (let i = 0; i < ids.length; i++) ids[i] = a + i;
  return ids;
}

/** Softmax probabilities of one row and head: P[i·g + j]. */
function rowProbabilities(
  dims: Dims, h: number, ids: ArrayLike<number>, g: number, q: Float64Array, k: Float64Array,
  keyBias: Float64Array, lae: AngleEncoding | null, G: Float64Array | null,
): Float64Array {
  const { H, d } = dims;
  const scale = 1 / Math.sqrt(d);
  const L = lae ? lae.maxDegree + 1 : 0;
  const P = new Float64Array(g * g);
  for (let i = 0; i < g; i++) {
    const qo = ids[i] * H + h * d;
    let max = -Infinity;
    for (let j = 0; j < g; j++) {
      const ko = ids[j] * H + h * d;
      let s = 0;
      if (lae && G) {
        const go = (i * g + j) * L;
        for (let c = 0; c < d; c++) s += q[qo + c] * k[ko + c] * G[go + lae.channelDegree[c]];
      } else {
        for (let c = 0; c < d; c++) s += q[qo + c] * k[ko + c];
      }
      s = s * scale + keyBias[ids[j]];
      P[i * g + j] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let j = 0; j < g; j++) { const e = Math.exp(P[i * g + j] - max); P[i * g + j] = e; sum += e; }
    for (let j = 0; j < g; j++) P[i * g + j] /= sum;
  }
  return P;
}

/** o = softmax(q·kᵀ/√d [LAE] + key bias)·v within each row of `layout`, per head (q, k, v: E×H). */
export function neighborhoodAttentionCore(
  q: Float64Array, k: Float64Array, v: Float64Array, E: number, nh: number, layout: EdgeLayout,
  keyBias: Float64Array, lae: AngleEncoding | null,
): Float64Array {
  const H = q.length / E;
  const dims: Dims = { E, H, nh, d: H / nh };
  const d = dims.d;
  const o = new Float64Array(E * H);
  const rows = layout.rowStart.length - 1;
  for (let r = 0; r < rows; r++) {
    const ids = rowIds(layout, r);
    const g = ids.length;
    const G = lae ? angleKernel(lae, ids, g) : null;
    for (let h = 0; h < nh; h++) {
      const P = rowProbabilities(dims, h, ids, g, q, k, keyBias, lae, G);
      for (let i = 0; i < g; i++) {
        const oo = ids[i] * H + h * d;
        for (let j = 0; j < g; j++) {
          const pij = P[i * g + j];
          const vo = ids[j] * H + h * d;
          for (let c = 0; c < d; c++) o[oo + c] += pij * v[vo + c];
        }
      }
    }
  }
  return o;
}

/** x ↦ x + s · Out(MHA(RMSNorm(x))) over the rows of `layout`. */
export function neighborhoodAttentionForward(
  p: AttentionParams, x: Float64Array, E: number, nh: number, layout: EdgeLayout,
  keyBias: Float64Array, lae: AngleEncoding | null, eps: number,
): { y: Float64Array; cache: NeighborhoodAttentionCache } {
  return attentionBlockForward(p, x, E, eps, (q, k, v) => neighborhoodAttentionCore(q, k, v, E, nh, layout, keyBias, lae));
}

/**
 * Backward of neighborhoodAttentionCore: dq, dk, dv; adds ∂E/∂(key bias) per edge into gradKeyBias and,
 * with LAE, ∂E/∂Y_lm(u_e) into gradSh (E×shSize).
 */
export function neighborhoodAttentionCoreBackward(
  q: Float64Array, k: Float64Array, v: Float64Array, dO: Float64Array, E: number, nh: number,
  layout: EdgeLayout, keyBias: Float64Array, lae: AngleEncoding | null,
  gradKeyBias: Float64Array, gradSh: Float64Array | null,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const H = q.length / E;
  const d = H / nh;
  const dims: Dims = { E, H, nh, d };
  const scale = 1 / Math.sqrt(d);
  const dq = new Float64Array(E * H), dk = new Float64Array(E * H), dv = new Float64Array(E * H);
  const L = lae ? lae.maxDegree + 1 : 0;
  const rows = layout.rowStart.length - 1;
  for (let r = 0; r < rows; r++) {
    const ids = rowIds(layout, r);
    const g = ids.length;
    const G = lae ? angleKernel(lae, ids, g) : null;
    const dG = lae ? new Float64Array(g * g * L) : null;
    for (let h = 0; h < nh; h++) {
      const P = rowProbabilities(dims, h, ids, g, q, k, keyBias, lae, G);
      const dP = new Float64Array(g);
      for (let i = 0; i < g; i++) {
        const io = ids[i] * H + h * d;
        let D = 0;
        for (let j = 0; j < g; j++) {
          const jo = ids[j] * H + h * d;
          let s = 0;
          for (let ch = 0; ch < d; ch++) s += dO[io + ch] * v[jo + ch];
          dP[j] = s;
          D += P[i * g + j] * s;
          const pij = P[i * g + j];
          for (let ch = 0; ch < d; ch++) dv[jo + ch] += pij * dO[io + ch];
        }
        for (let j = 0; j < g; j++) {
          const ds = P[i * g + j] * (dP[j] - D);
          if (ds === 0) continue;
          gradKeyBias[ids[j]] += ds;
          const jo = ids[j] * H + h * d;
          const t = ds * scale;
          if (lae && G && dG) {
            const go = (i * g + j) * L;
            for (let ch = 0; ch < d; ch++) {
              const l = lae.channelDegree[ch];
              const gl = G[go + l];
              dq[io + ch] += t * k[jo + ch] * gl;
              dk[jo + ch] += t * q[io + ch] * gl;
              dG[go + l] += t * q[io + ch] * k[jo + ch];
            }
          } else {
            for (let ch = 0; ch < d; ch++) {
              dq[io + ch] += t * k[jo + ch];
              dk[jo + ch] += t * q[io + ch];
            }
          }
        }
      }
    }
    if (lae && dG && gradSh) {
      // G_l(i,j) = Σ_m Y_lm(u_i) Y_lm(u_j) / (2l+1)
      for (let i = 0; i < g; i++)
        for (let j = 0; j < g; j++)
          for (let l = 0; l < L; l++) {
            const t = dG[(i * g + j) * L + l] / (2 * l + 1);
            if (t === 0) continue;
            const oi = ids[i] * lae.shSize, oj = ids[j] * lae.shSize;
            for (let m = l * l; m < (l + 1) * (l + 1); m++) {
              gradSh[oi + m] += t * lae.sh[oj + m];
              gradSh[oj + m] += t * lae.sh[oi + m];
            }
          }
    }
  }
  return { dq, dk, dv };
}

/** Backward of neighborhoodAttentionForward: returns dx (bias and SH gradients as in the core). */
export function neighborhoodAttentionBackward(
  p: AttentionParams, c: NeighborhoodAttentionCache, dy: Float64Array, E: number, nh: number,
  layout: EdgeLayout, keyBias: Float64Array, lae: AngleEncoding | null,
  gradKeyBias: Float64Array, gradSh: Float64Array | null,
): Float64Array {
  return attentionBlockBackward(p, c, dy, E,
    (q, k, v, dO) => neighborhoodAttentionCoreBackward(q, k, v, dO, E, nh, layout, keyBias, lae, gradKeyBias, gradSh));
}
