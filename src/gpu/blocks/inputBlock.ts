// Input block on the GPU (src/cpu/inputBlock.ts): node embedding GELU(Lin(RMSNorm([Emb(Z) ‖ GELU(Lin(BOO))])))
// (+ the charge/spin vector), edge attributes GELU(Lin([RBF(d) ‖ SH])) made from the slot geometry on the fly,
// and the edge state X₀ = GELU(Lin([node of the centre ‖ edge attributes]))  per slot. The backward pass
// returns ∂E/∂d (as partial sums per slot) and ∂E/∂BOO, and adds the SH share into ∂E/∂SH. It keeps only
// per-atom values: the two per-slot pre-activations are made again at the start of the backward pass (four
// dispatches) instead of being held through every layer.
import {
  edgeInputDistanceParts, edgeInputLinearBackward, edgeInputLinearForward, linearBackwardInput, linearForward,
  type EdgeInput, type LinearLayer,
} from '../ops/linear';
import { addVector, broadcastRows, copyCols, embed, sumSlots } from '../ops/rows';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { normBackward, normLinearForward, type BlockContext } from './context';

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
  const { featureIn } = edgeFeatureInput(c, p, inp, node0, 'input');
  const x = ws.tensor('input.x', E, H);
  linearForward(rt, rec, { x: featureIn, rows: E, layer: p.edgeFeatureLinear, y: x, gelu: true, pre: ws.tensor('input.edge_feature_pre_gelu', E, H) });
  return { x, saved: { booPre, cat, catInvRms, nodePre, node: node0 } };
}

/** [node of the centre ‖ GELU(Lin([RBF(d) ‖ SH]))] per slot, E × 2H, and the edge-attribute pre-activation. */
function edgeFeatureInput(c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, node: Tensor, label: string) {
  const { rt, rec, ws, E, H, K } = c;
  const edgeAttrPre = ws.tensor(`${label}.edge_attr_pre_gelu`, E, H), edgeAttr = ws.tensor(`${label}.edge_attr`, E, H);
  edgeInputLinearForward(rt, rec, { input: inp.edge, layer: p.edgeAttrLinear, y: edgeAttr, gelu: true, pre: edgeAttrPre });
  const featureIn = ws.tensor(`${label}.edge_feature_in`, E, 2 * H);
  broadcastRows(rt, rec, E, H, K, node, featureIn, 2 * H, 0);
  copyCols(rt, rec, E, H, edgeAttr, H, 0, featureIn, 2 * H, H);
  return { featureIn, edgeAttrPre };
}

/** From ∂E/∂X₀: ∂E/∂d as partial sums per slot (edgeInputDistanceParts columns) and ∂E/∂BOO; ADDS ∂E/∂SH into gradSh. */
export function backward(
  c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, s: InputBlockSaved, dx: Tensor, gradSh: Operand,
): { gradDistance: Tensor; distanceParts: number; gradBoo: Tensor } {
  const { rt, rec, ws, n, E, H, K } = c;
  const again = edgeFeatureInput(c, p, inp, s.node, 'input.recomputed');
  const featurePre = ws.tensor('input.recomputed.edge_feature_pre_gelu', E, H);
  linearForward(rt, rec, { x: again.featureIn, rows: E, layer: p.edgeFeatureLinear, y: featurePre });
  const dFeatIn = ws.tensor('input.d_edge_feature_in', E, 2 * H);
  linearBackwardInput(rt, rec, { dy: dx, rows: E, layer: p.edgeFeatureLinear, dx: dFeatIn, gelu: true, pre: featurePre });
  const dNode0 = ws.tensor('input.d_node', n, H), dEdgeAttr = ws.tensor('input.d_edge_attr', E, H);
  sumSlots(rt, rec, n, H, K, dFeatIn, 2 * H, 0, dNode0);
  copyCols(rt, rec, E, H, dFeatIn, 2 * H, H, dEdgeAttr, H, 0);
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
