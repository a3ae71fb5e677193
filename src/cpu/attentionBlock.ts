// The pre-norm residual multi-head attention block both attention stages share:
// x ↦ x + s · Out(core(q, k, v)), q, k, v = Lin(RMSNorm(x)). The core (neighborhood or node
// attention) is passed in, forward and backward.

import type { AttentionParams } from '../model/params';
import { linear, linearBackward, rmsNorm, rmsNormBackward, type RmsNormCache } from './ops';

export interface AttentionBlockCache { norm: RmsNormCache; q: Float64Array; k: Float64Array; v: Float64Array }

export type AttentionCore = (q: Float64Array, k: Float64Array, v: Float64Array) => Float64Array;
export type AttentionCoreBackward = (
  q: Float64Array, k: Float64Array, v: Float64Array, dO: Float64Array,
) => { dq: Float64Array; dk: Float64Array; dv: Float64Array };

export function attentionBlockForward(
  p: AttentionParams, x: Float64Array, rows: number, eps: number, core: AttentionCore,
): { y: Float64Array; cache: AttentionBlockCache } {
  const H = p.q.inDim;
  const { y: xn, cache: norm } = rmsNorm(x, rows, H, p.norm, eps);
  const q = linear(xn, rows, H, p.q.W, p.q.b, H);
  const k = linear(xn, rows, H, p.k.W, p.k.b, H);
  const v = linear(xn, rows, H, p.v.W, p.v.b, H);
  const out = linear(core(q, k, v), rows, H, p.out.W, p.out.b, H);
  const y = new Float64Array(rows * H);
  for (let i = 0; i < y.length; i++) y[i] = x[i] + p.resScale * out[i];
  return { y, cache: { norm, q, k, v } };
}

export function attentionBlockBackward(
  p: AttentionParams, c: AttentionBlockCache, dy: Float64Array, rows: number, coreBackward: AttentionCoreBackward,
): Float64Array {
  const H = p.q.inDim;
  const dOut = new Float64Array(rows * H);
  for (let i = 0; i < dOut.length; i++) dOut[i] = p.resScale * dy[i];
  const dO = linearBackward(dOut, rows, H, p.out.W, H);
  const { dq, dk, dv } = coreBackward(c.q, c.k, c.v, dO);
  const dxn = linearBackward(dq, rows, H, p.q.W, H);
  const dxk = linearBackward(dk, rows, H, p.k.W, H);
  const dxv = linearBackward(dv, rows, H, p.v.W, H);
  for (let i = 0; i < dxn.length; i++) dxn[i] += dxk[i] + dxv[i];
  const dx = rmsNormBackward(dxn, rows, H, p.norm, c.norm);
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i];
  return dx;
}
