// Feed-forward block on the GPU (src/cpu/ffn.ts): X + s·W₂·GELU(W₁·RMSNorm(X)), on edge slots or on nodes.
// The backward pass keeps X, 1/rms and W₁'s pre-activation; with `recompute` (edge slots, where the
// pre-activation is 2H floats per slot) only X, and makes the pre-activation again from it (two dispatches).
import { linearBackwardInput, linearForward } from '../ops/linear';
import type { Tensor } from '../workspace';
import { normBackward, normLinearForward, type BlockContext, type GpuFfn } from './context';

export interface FfnSaved { x: Tensor; invRms: Tensor | null; pre: Tensor | null }

export function forward(c: BlockContext, f: GpuFfn, x: Tensor, label: string, recompute = false): { y: Tensor; saved: FfnSaved } {
  const rows = x.rows;
  const pre = c.ws.tensor(`${label}.pre_gelu`, rows, f.lin1.outDim), h = c.ws.tensor(`${label}.hidden`, rows, f.lin1.outDim);
  const invRms = normLinearForward(c, x, f.lin1, { y: h, gelu: true, pre }, label);
  const y = c.ws.tensor(`${label}.y`, rows, c.H);
  linearForward(c.rt, c.rec, { x: h, rows, layer: f.lin2, y, residual: { x, scale: f.resScale } });
  return { y, saved: recompute ? { x, invRms: null, pre: null } : { x, invRms, pre } };
}

export function backward(c: BlockContext, f: GpuFfn, s: FfnSaved, dy: Tensor, label: string): Tensor {
  const rows = s.x.rows;
  const dh = c.ws.tensor(`${label}.d_hidden`, rows, f.lin1.outDim);
  linearBackwardInput(c.rt, c.rec, { dy, rows, layer: f.lin2, dx: dh, scale: f.resScale });
  const dxn = c.ws.tensor(`${label}.d_normed`, rows, c.H);
  let { invRms, pre } = s;
  if (!invRms || !pre) {
    pre = c.ws.tensor(`${label}.recomputed.pre_gelu`, rows, f.lin1.outDim);
    invRms = normLinearForward(c, s.x, f.lin1, { y: pre }, `${label}.recomputed`);
  }
  linearBackwardInput(c.rt, c.rec, { dy: dh, rows, layer: f.lin1, dx: dxn, gelu: true, pre });
  return normBackward(c, s.x, invRms, dxn, dy, label);
}
