// Output heads (spec §1.6): per-atom energy e_i = Lin(GELU(Lin(RMSNorm(n_i)))), summed per
// system; the direct force head has the same shape with 3 outputs.

import type { HeadParams } from '../model/params';
import { linear, linearBackward, linearGelu, linearGeluBackward, rmsNorm, rmsNormBackward, type RmsNormCache } from './ops';

export interface HeadCache { norm: RmsNormCache; pre: Float64Array }

export function headForward(p: HeadParams, x: Float64Array, n: number, eps: number): { y: Float64Array; cache: HeadCache } {
  const H = p.lin1.inDim;
  const { y: xn, cache: norm } = rmsNorm(x, n, H, p.norm, eps);
  const { y: hidden, pre } = linearGelu(xn, n, H, p.lin1.W, p.lin1.b, p.lin1.outDim);
  return { y: linear(hidden, n, p.lin2.inDim, p.lin2.W, p.lin2.b, p.lin2.outDim), cache: { norm, pre } };
}

export function headBackward(p: HeadParams, c: HeadCache, dy: Float64Array, n: number): Float64Array {
  const H = p.lin1.inDim;
  const dHidden = linearBackward(dy, n, p.lin2.inDim, p.lin2.W, p.lin2.outDim);
  const dxn = linearGeluBackward(dHidden, c.pre, n, H, p.lin1.W, p.lin1.outDim);
  return rmsNormBackward(dxn, n, H, p.norm, c.norm);
}
