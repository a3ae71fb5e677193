// Neighbourhood attention block on the GPU (src/cpu/neighborhoodAttention.ts): X + s·Out(Attn(RMSNorm(X))) over
// each atom's K slots, in the source or the destination layout. The backward pass keeps only X and
// recomputes q‖k‖v from it (one RMSNorm and one matmul): keeping q‖k‖v of every attention of every layer
// for the backward would be 3·H floats per slot each, the largest item of the step's memory. The op's
// backward then writes dq‖dk‖dv over the recomputed q‖k‖v.
//
// Where E × 3H is more than one binding may hold (rt.maxBinding), both passes run per group of heads: each
// group's q‖k‖v (E × 3H/G) is projected and attended in turn (heads are independent), writing its columns of
// the full E × H output, and the input gradient sums the groups' products. The destination layout reads q‖k‖v
// of any row (the reverse slots), so it cannot be split by atoms; by heads it can.
import { DeviceLimitError } from '../errors';
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

/** The fewest head groups (a divisor of the head count) whose q‖k‖v, E × 3H/G, fits one binding. */
export function headGroupCount(c: BlockContext, numHeads: number): number {
  const limit = c.rt.maxBinding;
  for (let G = 1; G <= numHeads; G++) if (numHeads % G === 0 && 4 * c.E * 3 * (c.H / G) <= limit) return G;
  throw new DeviceLimitError('maxStorageBufferBindingSize', 4 * c.E * 3 * (c.H / numHeads), limit,
    `neighbourhood attention's q‖k‖v of one head (${c.E} slots × ${3 * (c.H / numHeads)})`);
}

/** Group g of G: its own q‖k‖v tensor and the op's arguments for its heads. */
function groupArgs(c: BlockContext, g: NeighborhoodGraph, layout: 'src' | 'dst', G: number, i: number) {
  const all = opArgs(c, g, layout);
  return G === 1 ? all : { ...all, numHeads: g.numHeads / G, headGroup: { stride: c.H, offset: i * (c.H / G) } };
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
  const o = c.ws.tensor(`${label}.attention`, c.E, c.H);
  const G = headGroupCount(c, g.numHeads);
  if (G === 1) {
    const { qkv } = projectQkv(c, a, x, label);
    neighborhoodAttentionForward(c.rt, c.rec, { ...opArgs(c, g, layout), qkv, o });
  } else {
    const invRms = c.ws.tensor(`${label}.inv_rms`, c.E, 1);
    a.headGroups(G).forEach((layer, i) => {
      const qkv = c.ws.tensor(`${label}.qkv.group${i}`, c.E, layer.outDim);
      linearForward(c.rt, c.rec, { x, rows: c.E, layer, y: qkv, norm: { invRms, eps: c.eps } });
      neighborhoodAttentionForward(c.rt, c.rec, { ...groupArgs(c, g, layout, G, i), qkv, o });
    });
  }
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
  const dxn = c.ws.tensor(`${label}.d_normed`, c.E, c.H);
  const G = headGroupCount(c, g.numHeads);
  if (G === 1) {
    const { qkv, invRms } = projectQkv(c, a, s.x, `${label}.recomputed`);
    // the op overwrites q‖k‖v with dq‖dk‖dv (one E×3H array live instead of two)
    neighborhoodAttentionBackward(c.rt, c.rec, { ...opArgs(c, g, layout), qkv, dO, gradBias: grads.gradBias, gradSh: grads.gradSh });
    const dQkv = qkv;
    linearBackwardInput(c.rt, c.rec, { dy: dQkv, rows: c.E, layer: a.qkv, dx: dxn });
    return normBackward(c, s.x, invRms, dxn, dy, label);
  }
  const invRms = c.ws.tensor(`${label}.recomputed.inv_rms`, c.E, 1);
  a.headGroups(G).forEach((layer, i) => {
    const qkv = c.ws.tensor(`${label}.recomputed.qkv.group${i}`, c.E, layer.outDim);
    linearForward(c.rt, c.rec, { x: s.x, rows: c.E, layer, y: qkv, norm: { invRms, eps: c.eps } });
    neighborhoodAttentionBackward(c.rt, c.rec, { ...groupArgs(c, g, layout, G, i), qkv, dO, gradBias: grads.gradBias, gradSh: grads.gradSh });
    linearBackwardInput(c.rt, c.rec, { dy: qkv, rows: c.E, layer, dx: dxn, accumulate: i > 0 });
  });
  return normBackward(c, s.x, invRms, dxn, dy, label);
}
