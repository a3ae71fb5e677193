// Neighbourhood attention block on the GPU (src/cpu/neighborhoodAttention.ts): X + s·Out(Attn(RMSNorm(X))) over
// each atom's K slots, in the source or the destination layout. The backward pass keeps only X and
// recomputes q‖k‖v from it (one RMSNorm and one matmul): keeping q‖k‖v of every attention of every layer
// for the backward would be 3·H floats per slot each, the largest item of the step's memory. The op's
// backward then writes dq‖dk‖dv over the recomputed q‖k‖v.
import { linearBackwardInput, linearForward } from '../ops/linear';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward } from '../ops/neighborhoodAttention';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { normBackward, normLinearForward, type BlockContext, type GpuAttention } from './context';

/** What both layouts of every layer share: slot metadata, key bias and LAE. */
export interface NeighborhoodGraph {
  slotMeta: GPUBuffer;
  slotBias: GPUBuffer;
  lae: { sh: GPUBuffer; shSize: number; channelDegree: ArrayLike<number> } | null;
  numHeads: number;
}

export interface NeighborhoodAttentionSaved { x: Tensor }

/** Accumulators every neighbourhood attention's backward ADDS into. */
export interface EdgeGeometryGrads { gradBias: Operand; gradSh: Operand | null }

function opArgs(c: BlockContext, g: NeighborhoodGraph, layout: 'src' | 'dst') {
  return { rows: c.n, slots: c.K, numHeads: g.numHeads, headDim: c.H / g.numHeads, slotMeta: g.slotMeta, slotBias: g.slotBias, lae: g.lae, layout };
}

/** q‖k‖v = Lin(RMSNorm(X)), E × 3H, and 1/rms per slot (one pass). */
function projectQkv(c: BlockContext, a: GpuAttention, x: Tensor, label: string): { qkv: Tensor; invRms: Tensor } {
  const qkv = c.ws.tensor(`${label}.qkv`, c.E, 3 * c.H);
  const invRms = normLinearForward(c, x, a.qkv, { y: qkv }, label);
  return { qkv, invRms };
}

export function forward(
  c: BlockContext, a: GpuAttention, g: NeighborhoodGraph, x: Tensor, layout: 'src' | 'dst', label: string,
): { y: Tensor; saved: NeighborhoodAttentionSaved } {
  const { qkv } = projectQkv(c, a, x, label);
  const o = c.ws.tensor(`${label}.attention`, c.E, c.H);
  neighborhoodAttentionForward(c.rt, c.rec, { ...opArgs(c, g, layout), qkv, o });
  const y = c.ws.tensor(`${label}.y`, c.E, c.H);
  linearForward(c.rt, c.rec, { x: o, rows: c.E, layer: a.out, y, residual: { x, scale: a.resScale } });
  return { y, saved: { x } };
}

/** ∂E/∂X from ∂E/∂Y; adds the key-bias and LAE shares into `grads`. */
export function backward(
  c: BlockContext, a: GpuAttention, g: NeighborhoodGraph, s: NeighborhoodAttentionSaved, dy: Tensor, layout: 'src' | 'dst',
  grads: EdgeGeometryGrads, label: string,
): Tensor {
  const dO = c.ws.tensor(`${label}.d_attention`, c.E, c.H);
  linearBackwardInput(c.rt, c.rec, { dy, rows: c.E, layer: a.out, dx: dO, scale: a.resScale });
  const { qkv, invRms } = projectQkv(c, a, s.x, `${label}.recomputed`);
  // the op overwrites q‖k‖v with dq‖dk‖dv (one E×3H array live instead of two)
  neighborhoodAttentionBackward(c.rt, c.rec, { ...opArgs(c, g, layout), qkv, dO, gradBias: grads.gradBias, gradSh: grads.gradSh });
  const dQkv = qkv;
  const dxn = c.ws.tensor(`${label}.d_normed`, c.E, c.H);
  linearBackwardInput(c.rt, c.rec, { dy: dQkv, rows: c.E, layer: a.qkv, dx: dxn });
  return normBackward(c, s.x, invRms, dxn, dy, label);
}
