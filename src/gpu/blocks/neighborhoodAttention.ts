// Neighbourhood attention block on the GPU (src/cpu/neighborhoodAttention.ts): X + s·Out(Attn(RMSNorm(X))) over
// each atom's K slots, in the source or the destination layout. The backward pass keeps only X and
// recomputes q, k and v from it (one RMSNorm and one matmul): keeping them for every attention of every layer
// for the backward would be 3·H floats per slot each, the largest item of the step's memory. The op's
// backward then writes dq, dk and dv over the recomputed q, k and v.
//
// q, k and v are three E × H tensors, each a binding of its own (the projection writes them as column parts
// of one matmul): one E × 3H array is over a 128 MiB binding limit from ~7,000 atoms, E × H only from ~25,000,
// and the destination layout reads q, k, v of any row (the reverse slots), so rows cannot be chunked.
import { linearBackwardInput, linearForward, linearForwardParts, linearForwardWithSelf } from '../ops/linear';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward } from '../ops/neighborhoodAttention';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { linearNormBackwardNew, type BlockContext, type GpuAttention } from './context';

/** What both layouts of every layer share: slot metadata, key bias and LAE. */
export interface NeighborhoodGraph {
  slotKey: GPUBuffer;
  lae: { sh: GPUBuffer; shSize: number; channelDegree: ArrayLike<number> } | null;
  numHeads: number;
}

export interface NeighborhoodAttentionSaved { x: Tensor }

/** Accumulators every neighbourhood attention's backward ADDS into. */
export interface EdgeGeometryGrads { gradBias: Operand; gradSh: Operand | null }

function opArgs(c: BlockContext, g: NeighborhoodGraph, layout: 'src' | 'dst') {
  return { rows: c.n, slots: c.K, numHeads: g.numHeads, headDim: c.H / g.numHeads, slotKey: g.slotKey, lae: g.lae, layout };
}

/** q, k, v = Lin(RMSNorm(X)), E × H each, and 1/rms per slot (one pass). */
function projectQkv(c: BlockContext, a: GpuAttention, x: Tensor, label: string): { q: Tensor; k: Tensor; v: Tensor; invRms: Tensor } {
  const q = c.ws.tensor(`${label}.q`, c.E, c.H), k = c.ws.tensor(`${label}.k`, c.E, c.H), v = c.ws.tensor(`${label}.v`, c.E, c.H);
  const invRms = c.ws.tensor(`${label}.inv_rms`, c.E, 1);
  linearForwardParts(c.rt, c.rec, { x, rows: c.E, layer: a.qkv, parts: [q, k, v], norm: { invRms, eps: c.eps } });
  return { q, k, v, invRms };
}

/** With `node` (N × H), the output's node states (slot 0 of each atom) are written there too, in the same pass. */
export function forward(
  c: BlockContext, a: GpuAttention, g: NeighborhoodGraph, x: Tensor, layout: 'src' | 'dst', label: string, node?: Tensor,
): { y: Tensor; saved: NeighborhoodAttentionSaved } {
  const o = c.ws.tensor(`${label}.attention`, c.E, c.H);
  const { q, k, v } = projectQkv(c, a, x, label);
  neighborhoodAttentionForward(c.rt, c.rec, { ...opArgs(c, g, layout), q, k, v, o });
  const y = c.ws.tensor(`${label}.y`, c.E, c.H);
  const residual = { x, scale: a.resScale };
  if (node) linearForwardWithSelf(c.rt, c.rec, { x: o, rows: c.E, layer: a.out, y, residual, slots: c.K, node });
  else linearForward(c.rt, c.rec, { x: o, rows: c.E, layer: a.out, y, residual });
  return { y, saved: { x } };
}

/** ∂E/∂X from ∂E/∂Y; adds the key-bias and LAE shares into `grads`. */
export function backward(
  c: BlockContext, a: GpuAttention, g: NeighborhoodGraph, s: NeighborhoodAttentionSaved, dy: Tensor, layout: 'src' | 'dst',
  grads: EdgeGeometryGrads, label: string,
): Tensor {
  const dO = c.ws.tensor(`${label}.d_attention`, c.E, c.H);
  linearBackwardInput(c.rt, c.rec, { dy, rows: c.E, layer: a.out, dx: dO, scale: a.resScale });
  const { q, k, v, invRms } = projectQkv(c, a, s.x, `${label}.recomputed`);
  // the op overwrites q, k, v with dq, dk, dv (three E×H arrays live instead of six)
  neighborhoodAttentionBackward(c.rt, c.rec, { ...opArgs(c, g, layout), q, k, v, dO, gradBias: grads.gradBias, gradSh: grads.gradSh });
  return linearNormBackwardNew(c, { dy: [q, k, v], layer: a.qkv }, s.x, invRms, dy, label);
}
