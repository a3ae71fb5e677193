// Energy head on the GPU (src/cpu/heads.ts): E_raw = Σ_atoms W₂·GELU(W₁·RMSNorm(node)), and its backward
// (∂E_raw/∂e_i = 1 for every atom) to ∂E_raw/∂node.
import { linearForward } from '../ops/linear';
import { broadcastRows, sumRows } from '../ops/rows';
import type { Tensor } from '../workspace';
import { linearNormBackwardNew, normLinearForward, type BlockContext, type GpuHead } from './context';

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
  // ∂E_raw/∂(energy per atom) = 1, so ∂E_raw/∂hidden is W₂'s one row in every atom's row
  if (h.lin2.outDim !== 1) throw new Error('the energy head ends in one output per atom');
  const dh = c.ws.tensor('head.d_hidden', c.n, h.lin1.outDim);
  broadcastRows(c.rt, c.rec, c.n, h.lin1.outDim, c.n, h.lin2.weight, dh, h.lin1.outDim, 0);
  return linearNormBackwardNew(c, { dy: dh, layer: h.lin1, gelu: true, pre: s.pre }, s.x, s.invRms, null, 'head');
}
