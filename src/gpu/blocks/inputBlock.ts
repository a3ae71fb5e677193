// Input block on the GPU (src/cpu/inputBlock.ts): node embedding GELU(Lin(RMSNorm([Emb(Z) ‖ GELU(Lin(BOO))])))
// (+ the charge/spin vector), edge attributes GELU(Lin([RBF(d) ‖ SH])) made from the slot geometry on the fly,
// and the edge state X₀ = GELU(Lin([node of the centre ‖ edge attributes]))  per slot. The backward pass
// returns ∂E/∂d (as partial sums per slot) and ∂E/∂BOO, and adds the SH share into ∂E/∂SH. It keeps only
// per-atom values: the two per-slot pre-activations are made again at the start of the backward pass (four
// dispatches) instead of being held through every layer. The per-slot [node ‖ edge attributes] input (E × 2H)
// and its gradient are made per atom chunk where E × 2H is more than one binding may hold (atomChunks).
import {
  edgeInputDistanceParts, edgeInputLinearBackward, edgeInputLinearForward, linearBackwardInput, linearForward,
  type EdgeInput, type LinearLayer,
} from '../ops/linear';
import { addVector, broadcastRows, copyCols, embed, sumSlots } from '../ops/rows';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { atomChunks, normBackward, normLinearForward, type BlockContext } from './context';

export interface GpuInputBlock {
  /** nodeLinear holds the node norm's weight folded into W (normLinearForward). */
  atomEmbedding: GPUBuffer; booLinear: LinearLayer; nodeLinear: LinearLayer;
  edgeAttrLinear: LinearLayer; edgeFeatureLinear: LinearLayer;
}

export interface InputBlockInputs {
  /** Atomic numbers, N u32. */
  numbers: GPUBuffer;
  /** Bond-orientational order, N × (boo_lmax + 1). */
  boo: Operand;
  edge: EdgeInput;
  /** GELU(Lin([ChargeEmb ‖ SpinEmb])), H values, or null without charge/spin. */
  chargeSpin: GPUBuffer | null;
}

export interface InputBlockSaved { booPre: Tensor; cat: Tensor; catInvRms: Tensor; nodePre: Tensor; node: Tensor }

export function forward(c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs): { x: Tensor; saved: InputBlockSaved } {
  const { rt, rec, ws, n, E, H, K } = c;
  const booPre = ws.tensor('input.boo_pre_gelu', n, H), bdir = ws.tensor('input.boo_direction', n, H);
  linearForward(rt, rec, { x: inp.boo, rows: n, layer: p.booLinear, y: bdir, gelu: true, pre: booPre });
  const cat = ws.tensor('input.node_cat', n, 2 * H);
  embed(rt, rec, n, H, p.atomEmbedding, inp.numbers, cat, 2 * H, 0);
  copyCols(rt, rec, n, H, bdir, H, 0, cat, 2 * H, H);
  const nodePre = ws.tensor('input.node_pre_gelu', n, H), node0 = ws.tensor('input.node', n, H);
  const catInvRms = normLinearForward(c, cat, p.nodeLinear, { y: node0, gelu: true, pre: nodePre }, 'input.node_cat');
  if (inp.chargeSpin) addVector(rt, rec, n, H, inp.chargeSpin, node0);
  const { edgeAttr } = edgeAttributes(c, p, inp, 'input');
  const x = ws.tensor('input.x', E, H);
  for (const [a0, na] of featureChunks(c)) {
    const tag = chunkLabel(c, 'input', a0), rows = na * K;
    const featureIn = edgeFeatureInput(c, node0, edgeAttr, a0, na, tag);
    linearForward(rt, rec, { x: featureIn, rows, layer: p.edgeFeatureLinear, y: sliceRows(c, x, a0, na), gelu: true, pre: ws.tensor(`${tag}.edge_feature_pre_gelu`, rows, H) });
  }
  return { x, saved: { booPre, cat, catInvRms, nodePre, node: node0 } };
}

/** GELU(Lin([RBF(d) ‖ SH])) per slot (E × H) and its pre-activation. */
function edgeAttributes(c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, label: string) {
  const { rt, rec, ws, E, H } = c;
  const edgeAttrPre = ws.tensor(`${label}.edge_attr_pre_gelu`, E, H), edgeAttr = ws.tensor(`${label}.edge_attr`, E, H);
  edgeInputLinearForward(rt, rec, { input: inp.edge, layer: p.edgeAttrLinear, y: edgeAttr, gelu: true, pre: edgeAttrPre });
  return { edgeAttr, edgeAttrPre };
}

/** Atom chunks over which the E × 2H feature input (and its gradient) fit one binding; all atoms where they do. */
function featureChunks(c: BlockContext): [number, number][] {
  return atomChunks(c, 4 * c.K * 2 * c.H, [4 * c.K * c.H, 4 * c.H], 'the input block\'s [node ‖ edge attributes] per slot');
}

const chunkLabel = (c: BlockContext, label: string, a0: number) => (a0 === 0 && featureChunks(c).length === 1 ? label : `${label}.atoms${a0}`);

/** Rows of the atoms [a0, a0 + na) of a per-slot (K rows per atom) or per-atom tensor; the tensor itself when that is all. */
function sliceRows(c: BlockContext, t: Tensor, a0: number, na: number) {
  const per = t.rows / c.n;
  return na === c.n ? t : t.slice(a0 * per, na * per);
}

/** [node of the centre ‖ edge attributes] per slot of the atoms [a0, a0 + na), na·K × 2H. */
function edgeFeatureInput(c: BlockContext, node: Tensor, edgeAttr: Tensor, a0: number, na: number, label: string): Tensor {
  const { rt, rec, ws, H, K } = c;
  const rows = na * K;
  const featureIn = ws.tensor(`${label}.edge_feature_in`, rows, 2 * H);
  broadcastRows(rt, rec, rows, H, K, sliceRows(c, node, a0, na), featureIn, 2 * H, 0);
  copyCols(rt, rec, rows, H, sliceRows(c, edgeAttr, a0, na), H, 0, featureIn, 2 * H, H);
  return featureIn;
}

/** From ∂E/∂X₀: ∂E/∂d as partial sums per slot (edgeInputDistanceParts columns) and ∂E/∂BOO; ADDS ∂E/∂SH into gradSh. */
export function backward(
  c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, s: InputBlockSaved, dx: Tensor, gradSh: Operand,
): { gradDistance: Tensor; distanceParts: number; gradBoo: Tensor } {
  const { rt, rec, ws, n, E, H, K } = c;
  const again = edgeAttributes(c, p, inp, 'input.recomputed');
  const dNode0 = ws.tensor('input.d_node', n, H), dEdgeAttr = ws.tensor('input.d_edge_attr', E, H);
  for (const [a0, na] of featureChunks(c)) {
    const rows = na * K;
    const featureIn = edgeFeatureInput(c, s.node, again.edgeAttr, a0, na, chunkLabel(c, 'input.recomputed', a0));
    const tag = chunkLabel(c, 'input', a0);
    const featurePre = ws.tensor(`${chunkLabel(c, 'input.recomputed', a0)}.edge_feature_pre_gelu`, rows, H);
    linearForward(rt, rec, { x: featureIn, rows, layer: p.edgeFeatureLinear, y: featurePre });
    const dFeatIn = ws.tensor(`${tag}.d_edge_feature_in`, rows, 2 * H);
    linearBackwardInput(rt, rec, { dy: sliceRows(c, dx, a0, na), rows, layer: p.edgeFeatureLinear, dx: dFeatIn, gelu: true, pre: featurePre });
    sumSlots(rt, rec, na, H, K, dFeatIn, 2 * H, 0, sliceRows(c, dNode0, a0, na));
    copyCols(rt, rec, rows, H, dFeatIn, 2 * H, H, sliceRows(c, dEdgeAttr, a0, na), H, 0);
  }
  const distanceParts = edgeInputDistanceParts(p.edgeAttrLinear);
  const gradDistance = ws.tensor('input.d_distance_parts', E, distanceParts);
  edgeInputLinearBackward(rt, rec, {
    input: inp.edge, dy: dEdgeAttr, layer: p.edgeAttrLinear, gelu: true, pre: again.edgeAttrPre, gradSh, distPart: gradDistance,
  });
  const dCatNorm = ws.tensor('input.d_node_cat_normed', n, 2 * H);
  linearBackwardInput(rt, rec, { dy: dNode0, rows: n, layer: p.nodeLinear, dx: dCatNorm, gelu: true, pre: s.nodePre });
  const dCat = normBackward(c, s.cat, s.catInvRms, dCatNorm, null, 'input.node_cat');
  const dBdir = ws.tensor('input.d_boo_direction', n, H);
  copyCols(rt, rec, n, H, dCat, 2 * H, H, dBdir, H, 0);
  const gradBoo = ws.tensor('input.d_boo', n, p.booLinear.inDim);
  linearBackwardInput(rt, rec, { dy: dBdir, rows: n, layer: p.booLinear, dx: gradBoo, gelu: true, pre: s.booPre });
  return { gradDistance, distanceParts, gradBoo };
}
