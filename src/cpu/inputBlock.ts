// Input block (spec §1.4): node embedding from the element, the bond-orientational order and the
// system's charge/spin; edge embedding from RBF ‖ SH of each edge and the center's node embedding.

import type { ArchitectureConfig } from '../model/config';
import type { SystemCharge } from '../model/systemCheck';
import type { NeighborGraph } from './graph';
import type { EdgeFeatures } from './features';
import type { InputBlockParams } from '../model/params';
import { gelu, linear, linearBackward, linearGelu, linearGeluBackward, geluBackward, rmsNorm, rmsNormBackward, type RmsNormCache } from './ops';

export interface InputBlockCache {
  booPre: Float64Array; norm: RmsNormCache; nodePre: Float64Array;
  edgeAttrPre: Float64Array; edgeFeatPre: Float64Array; node: Float64Array;
}

/** Number of SH components fed to the edge embedding: (sh_lmax + 1)². */
export function inputShSize(arch: ArchitectureConfig): number {
  return (arch.sh_lmax + 1) ** 2;
}

export function inputBlockForward(
  p: InputBlockParams, arch: ArchitectureConfig, numbers: Int32Array, cs: SystemCharge,
  graph: NeighborGraph, f: EdgeFeatures,
): { x: Float64Array; cache: InputBlockCache } {
  const H = arch.hidden_size;
  const n = graph.numAtoms;
  const E = graph.edgeEnv.length;
  const nBoo = arch.boo_lmax + 1;
  const { y: bdir, pre: booPre } = linearGelu(f.boo, n, nBoo, p.booLinear.W, p.booLinear.b, H);
  const cat = new Float64Array(n * 2 * H);
  for (let a = 0; a < n; a++) {
    cat.set(p.atomEmbedding.subarray(numbers[a] * H, numbers[a] * H + H), a * 2 * H);
    cat.set(bdir.subarray(a * H, a * H + H), a * 2 * H + H);
  }
  const { y: normed, cache: norm } = rmsNorm(cat, n, 2 * H, p.nodeNorm, arch.rmsnorm_eps);
  const { y: node, pre: nodePre } = linearGelu(normed, n, 2 * H, p.nodeLinear.W, p.nodeLinear.b, H);
  if (p.chargeEmbedding && p.spinEmbedding && p.chargeSpinLinear) {
    const csIn = new Float64Array(2 * H);
    csIn.set(p.chargeEmbedding.subarray((cs.charge + 100) * H, (cs.charge + 101) * H), 0);
    csIn.set(p.spinEmbedding.subarray(cs.spin * H, (cs.spin + 1) * H), H);
    const csOut = gelu(linear(csIn, 1, 2 * H, p.chargeSpinLinear.W, p.chargeSpinLinear.b, H));
    for (let a = 0; a < n; a++) for (let c = 0; c < H; c++) node[a * H + c] += csOut[c];
  }
  const R = arch.rbf_size;
  const S = inputShSize(arch);
  const edgeIn = new Float64Array(E * (R + S));
  for (let e = 0; e < E; e++) {
    edgeIn.set(f.rbf.subarray(e * R, e * R + R), e * (R + S));
    edgeIn.set(f.sh.subarray(e * f.shSize, e * f.shSize + S), e * (R + S) + R);
  }
  const { y: edgeAttr, pre: edgeAttrPre } = linearGelu(edgeIn, E, R + S, p.edgeAttrLinear.W, p.edgeAttrLinear.b, H);
  const featIn = new Float64Array(E * 2 * H);
  for (let e = 0; e < E; e++) {
    const a = graph.edgeCenter[e];
    featIn.set(node.subarray(a * H, a * H + H), e * 2 * H);
    featIn.set(edgeAttr.subarray(e * H, e * H + H), e * 2 * H + H);
  }
  const { y: x, pre: edgeFeatPre } = linearGelu(featIn, E, 2 * H, p.edgeFeatureLinear.W, p.edgeFeatureLinear.b, H);
  return { x, cache: { booPre, norm, nodePre, edgeAttrPre, edgeFeatPre, node } };
}

/** Backward to the geometric features: ∂E/∂RBF (E×R), ∂E/∂SH (added to gradSh), ∂E/∂BOO (N×nBoo). */
export function inputBlockBackward(
  p: InputBlockParams, arch: ArchitectureConfig, graph: NeighborGraph, f: EdgeFeatures,
  c: InputBlockCache, dx: Float64Array, gradSh: Float64Array,
): { gradRbf: Float64Array; gradBoo: Float64Array } {
  const H = arch.hidden_size;
  const n = graph.numAtoms;
  const E = graph.edgeEnv.length;
  const R = arch.rbf_size;
  const S = inputShSize(arch);
  const nBoo = arch.boo_lmax + 1;
  const dFeatIn = linearGeluBackward(dx, c.edgeFeatPre, E, 2 * H, p.edgeFeatureLinear.W, H);
  const dNode = new Float64Array(n * H);
  const dEdgeAttr = new Float64Array(E * H);
  for (let e = 0; e < E; e++) {
    const a = graph.edgeCenter[e];
    for (let q = 0; q < H; q++) {
      dNode[a * H + q] += dFeatIn[e * 2 * H + q];
      dEdgeAttr[e * H + q] = dFeatIn[e * 2 * H + H + q];
    }
  }
  const dEdgeIn = linearGeluBackward(dEdgeAttr, c.edgeAttrPre, E, R + S, p.edgeAttrLinear.W, H);
  const gradRbf = new Float64Array(E * R);
  for (let e = 0; e < E; e++) {
    gradRbf.set(dEdgeIn.subarray(e * (R + S), e * (R + S) + R), e * R);
    for (let q = 0; q < S; q++) gradSh[e * f.shSize + q] += dEdgeIn[e * (R + S) + R + q];
  }
  // node = GELU(Lin(RMSNorm([emb, GELU(Lin(BOO))]))) (+ a position-independent charge/spin term)
  const dNormed = linearBackward(geluBackward(c.nodePre, dNode), n, 2 * H, p.nodeLinear.W, H);
  const dCat = rmsNormBackward(dNormed, n, 2 * H, p.nodeNorm, c.norm);
  const dBdir = new Float64Array(n * H);
  for (let a = 0; a < n; a++) dBdir.set(dCat.subarray(a * 2 * H + H, a * 2 * H + 2 * H), a * H);
  const gradBoo = linearGeluBackward(dBdir, c.booPre, n, nBoo, p.booLinear.W, H);
  return { gradRbf, gradBoo };
}
