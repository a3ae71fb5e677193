// Pre-norm residual feed-forward block: y = x + s · Lin₂(GELU(Lin₁(RMSNorm(x)))).

import type { FfnParams } from '../model/params';
import { linear, linearBackward, linearGelu, linearGeluBackward, rmsNorm, rmsNormBackward, type RmsNormCache } from './ops';

export interface FfnCache { rows: number; xn: Float64Array; norm: RmsNormCache; pre: Float64Array; hidden: Float64Array }

export function ffnForward(p: FfnParams, x: Float64Array, rows: number, eps: number): { y: Float64Array; cache: FfnCache } {
  const H = p.lin1.inDim;
  const { y: xn, cache: norm } = rmsNorm(x, rows, H, p.norm, eps);
  const { y: hidden, pre } = linearGelu(xn, rows, H, p.lin1.W, p.lin1.b, p.lin1.outDim);
  const out = linear(hidden, rows, p.lin2.inDim, p.lin2.W, p.lin2.b, H);
  const y = new Float64Array(x.length);
  for (let i = 0; i < y.length; i++) y[i] = x[i] + p.resScale * out[i];
  return { y, cache: { rows, xn, norm, pre, hidden } };
}

export function ffnBackward(p: FfnParams, c: FfnCache, dy: Float64Array): Float64Array {
  const H = p.lin1.inDim;
  const dOut = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dOut[i] = p.resScale * dy[i];
  const dHidden = linearBackward(dOut, c.rows, p.lin2.inDim, p.lin2.W, H);
  const dxn = linearGeluBackward(dHidden, c.pre, c.rows, H, p.lin1.W, p.lin1.outDim);
  const dx = rmsNormBackward(dxn, c.rows, H, p.norm, c.norm);
  for (let i = 0; i < dx.length; i++) dx[i] += dy[i];
  return dx;
}
