// Input block on the GPU (src/cpu/inputBlock.ts): node embedding GELU(Lin(RMSNorm([Emb(Z) ‖ GELU(Lin(BOO))])))
// (+ the charge/spin vector), edge attributes GELU(Lin([RBF(d) ‖ SH])) made from the slot geometry on the fly,
// and the edge state X₀ = GELU(Lin([node of the centre ‖ edge attributes])) per slot, computed as
// GELU(Lin_b(edge attributes) + Lin_a(node)) with Lin_a once per atom and added to its slots in the same pass
// (W split by columns at upload): no per-slot E × 2H concatenation, no copies, nothing wider than one E × H
// binding. The backward pass returns ∂E/∂d (as partial sums per slot) and ∂E/∂BOO, and adds the SH share
// into ∂E/∂SH. It keeps only per-atom values: the two per-slot pre-activations are made again at the start of
// the backward pass (two dispatches) instead of being held through every layer.
import {
  edgeInputDistanceParts, edgeInputLinearBackward, edgeInputLinearForward, linearBackwardInput, linearForward,
  type EdgeInput, type LinearLayer,
} from '../ops/linear';
import { addVector, embed } from '../ops/rows';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { linearNormBackwardNew, normLinearForward, type BlockContext } from './context';

export interface GpuInputBlock {
  /** nodeLinear holds the node norm's weight folded into W (normLinearForward). */
  atomEmbedding: GPUBuffer; booLinear: LinearLayer; nodeLinear: LinearLayer;
  edgeAttrLinear: LinearLayer;
  /** The edge-feature layer Lin([node ‖ edge attributes]) split by input columns: node part (with the bias), edge part. */
  edgeFeatureNode: LinearLayer; edgeFeatureEdge: LinearLayer;
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

/** nodeFeature: Lin_a(node) + b per atom (N × H), the node part of the edge-feature layer. */
export interface InputBlockSaved { booPre: Tensor; cat: Tensor; catInvRms: Tensor; nodePre: Tensor; node: Tensor; nodeFeature: Tensor }

export function forward(c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs): { x: Tensor; saved: InputBlockSaved } {
  const { rt, rec, ws, n, E, H, K } = c;
  // cat = [Emb(Z) ‖ GELU(Lin(BOO))]: the BOO layer writes its half of cat in place
  const booPre = ws.tensor('input.boo_pre_gelu', n, H), cat = ws.tensor('input.node_cat', n, 2 * H);
  embed(rt, rec, n, H, p.atomEmbedding, inp.numbers, cat, 2 * H, 0);
  linearForward(rt, rec, { x: inp.boo, rows: n, layer: p.booLinear, y: cat, yCols: { stride: 2 * H, offset: H }, gelu: true, pre: booPre });
  const nodePre = ws.tensor('input.node_pre_gelu', n, H), node0 = ws.tensor('input.node', n, H);
  const catInvRms = normLinearForward(c, cat, p.nodeLinear, { y: node0, gelu: true, pre: nodePre }, 'input.node_cat');
  if (inp.chargeSpin) addVector(rt, rec, n, H, inp.chargeSpin, node0);
  const { edgeAttr } = edgeAttributes(c, p, inp, 'input');
  const nodeFeature = ws.tensor('input.edge_feature_node', n, H);
  linearForward(rt, rec, { x: node0, rows: n, layer: p.edgeFeatureNode, y: nodeFeature });
  const x = ws.tensor('input.x', E, H);
  linearForward(rt, rec, {
    x: edgeAttr, rows: E, layer: p.edgeFeatureEdge, y: x, gelu: true, pre: ws.tensor('input.edge_feature_pre_gelu', E, H),
    rowTerm: { table: nodeFeature, slots: K },
  });
  return { x, saved: { booPre, cat, catInvRms, nodePre, node: node0, nodeFeature } };
}

/** GELU(Lin([RBF(d) ‖ SH])) per slot (E × H) and its pre-activation. */
function edgeAttributes(c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, label: string) {
  const { rt, rec, ws, E, H } = c;
  const edgeAttrPre = ws.tensor(`${label}.edge_attr_pre_gelu`, E, H), edgeAttr = ws.tensor(`${label}.edge_attr`, E, H);
  edgeInputLinearForward(rt, rec, { input: inp.edge, layer: p.edgeAttrLinear, y: edgeAttr, gelu: true, pre: edgeAttrPre });
  return { edgeAttr, edgeAttrPre };
}

/** From ∂E/∂X₀: ∂E/∂d as partial sums per slot (edgeInputDistanceParts columns) and ∂E/∂BOO; ADDS ∂E/∂SH into gradSh. */
export function backward(
  c: BlockContext, p: GpuInputBlock, inp: InputBlockInputs, s: InputBlockSaved, dx: Tensor, gradSh: Operand,
): { gradDistance: Tensor; distanceParts: number; gradBoo: Tensor } {
  const { rt, rec, ws, n, E, H, K } = c;
  const again = edgeAttributes(c, p, inp, 'input.recomputed');
  const featurePre = ws.tensor('input.recomputed.edge_feature_pre_gelu', E, H);
  linearForward(rt, rec, { x: again.edgeAttr, rows: E, layer: p.edgeFeatureEdge, y: featurePre, rowTerm: { table: s.nodeFeature, slots: K } });
  // g = ∂E/∂X₀ ⊙ GELU'(pre) per slot: its product with W_b for the edge attributes, summed over the atom's
  // slots for the node (the node part was broadcast to them)
  const dEdgeAttr = ws.tensor('input.d_edge_attr', E, H), dNode0 = ws.tensor('input.d_node', n, H);
  linearBackwardInput(rt, rec, { dy: dx, rows: E, layer: p.edgeFeatureEdge, dx: dEdgeAttr, gelu: true, pre: featurePre });
  linearBackwardInput(rt, rec, { dy: dx, rows: n, layer: p.edgeFeatureNode, dx: dNode0, gelu: true, pre: featurePre, sumSlots: K });
  const distanceParts = edgeInputDistanceParts(p.edgeAttrLinear);
  const gradDistance = ws.tensor('input.d_distance_parts', E, distanceParts);
  edgeInputLinearBackward(rt, rec, {
    input: inp.edge, dy: dEdgeAttr, layer: p.edgeAttrLinear, gelu: true, pre: again.edgeAttrPre, gradSh, distPart: gradDistance,
  });
  const dCat = linearNormBackwardNew(c, { dy: dNode0, layer: p.nodeLinear, gelu: true, pre: s.nodePre }, s.cat, s.catInvRms, null, 'input.node_cat');
  const gradBoo = ws.tensor('input.d_boo', n, p.booLinear.inDim);
  linearBackwardInput(rt, rec, { dy: dCat, dyCols: { stride: 2 * H, offset: H }, rows: n, layer: p.booLinear, dx: gradBoo, gelu: true, pre: s.booPre });
  return { gradDistance, distanceParts, gradBoo };
}
