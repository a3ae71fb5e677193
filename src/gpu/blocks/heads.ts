// Energy head on the GPU (src/cpu/heads.ts): E_raw = Σ_atoms W₂·GELU(W₁·RMSNorm(node)), and its backward
// (∂E_raw/∂e_i = 1 for every atom) to ∂E_raw/∂node.
import { sumRowsDot } from '../ops/rows';
import type { Tensor } from '../workspace';
import { linearNormBackwardNew, normLinearForward, type BlockContext, type GpuHead } from './context';

export interface HeadSaved { x: Tensor; invRms: Tensor; pre: Tensor }

/** `energyRaw` (1 value) receives E_raw. */
export function forward(c: BlockContext, h: GpuHead, node: Tensor, energyRaw: Tensor): HeadSaved {
  const pre = c.ws.tensor('head.pre_gelu', c.n, h.lin1.outDim), hidden = c.ws.tensor('head.hidden', c.n, h.lin1.outDim);
  const invRms = normLinearForward(c, node, h.lin1, { y: hidden, gelu: true, pre }, 'head');
  // the last layer has one output per atom: its products and their sum in one pass
  if (h.lin2.outDim !== 1) throw new Error('the energy head ends in one output per atom');
  sumRowsDot(c.rt, c.rec, c.n, h.lin1.outDim, hidden, h.lin2.weight, h.lin2.bias, energyRaw);
  return { x: node, invRms, pre };
}

/** ∂E_raw/∂node. */
export function backward(c: BlockContext, h: GpuHead, s: HeadSaved): Tensor {
  // ∂E_raw/∂(energy per atom) = 1, so ∂E_raw/∂hidden of every atom is W₂'s one row (read in place)
  return linearNormBackwardNew(c, { dy: h.lin2.weight, dyRow0: true, layer: h.lin1, gelu: true, pre: s.pre }, s.x, s.invRms, null, 'head');
}
