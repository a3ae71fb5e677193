// Energy head on the GPU (src/cpu/heads.ts): E_raw = Σ_atoms W₂·GELU(W₁·RMSNorm(node)), and its backward
// (∂E_raw/∂e_i = 1 for every atom) to ∂E_raw/∂node.
import { linearBackwardInput, linearForward } from '../ops/linear';
import { fill, sumRows } from '../ops/rows';
import type { Tensor } from '../workspace';
import { normBackward, normLinearForward, type BlockContext, type GpuHead } from './context';

export interface HeadSaved { x: Tensor; invRms: Tensor; pre: Tensor }

/** `energyRaw` (1 value) receives E_raw. */
export function forward(c: BlockContext, h: GpuHead, node: Tensor, energyRaw: Tensor): HeadSaved {
  const pre = c.ws.tensor('head.pre_gelu', c.n, h.lin1.outDim), hidden = c.ws.tensor('head.hidden', c.n, h.lin1.outDim);
  const invRms = normLinearForward(c, node, h.lin1, { y: hidden, gelu: true, pre }, 'head');
  const perAtom = c.ws.tensor('head.energy_per_atom', c.n, 1);
  linearForward(c.rt, c.rec, { x: hidden, rows: c.n, layer: h.lin2, y: perAtom });
  sumRows(c.rt, c.rec, c.n, perAtom, energyRaw);
  return { x: node, invRms, pre };
}

/** ∂E_raw/∂node. */
export function backward(c: BlockContext, h: GpuHead, s: HeadSaved): Tensor {
  const ones = c.ws.tensor('head.d_energy_per_atom', c.n, 1);
  fill(c.rt, c.rec, c.n, ones, 1);
  const dh = c.ws.tensor('head.d_hidden', c.n, h.lin1.outDim);
  linearBackwardInput(c.rt, c.rec, { dy: ones, rows: c.n, layer: h.lin2, dx: dh });
  const dxn = c.ws.tensor('head.d_normed', c.n, c.H);
  linearBackwardInput(c.rt, c.rec, { dy: dh, rows: c.n, layer: h.lin1, dx: dxn, gelu: true, pre: s.pre });
  return normBackward(c, s.x, s.invRms, dxn, null, 'head');
}
