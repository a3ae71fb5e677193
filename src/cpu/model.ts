// Float64 reference runtime of AllScAIP: energy, forces (hand-written reverse pass) and stress.
// The test oracle for the WebGPU runtime and the fallback where WebGPU is missing.
// Stages, in spec order: graph.ts → features.ts → inputBlock.ts → (neighborhoodAttention.ts,
// ffn.ts, nodeAttention.ts) × L → heads.ts; each has its backward beside its forward.

import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { elementReferenceEnergy } from '../model/referenceEnergy';
import { checkChargeSpin, UnsupportedSystemError, type SystemProblemKind } from '../model/systemCheck';
import { cellVolume, periodicCell } from '../geometry/cell';
import { minimumImageMetric } from '../geometry/periodicImages';
import { buildNeighborGraph, envelopeBias, neighborGraphBackward, type NeighborGraph } from './graph';
import { booBackward, computeEdgeFeatures, rbfBackward, shBackward, type EdgeFeatures } from './features';
import { eropeFrequencies, laeChannelDegrees } from '../model/architecture';
import { smoothPairMetric, type PairGeometry } from './eropeDistance';
import { inputBlockBackward, inputBlockForward } from './inputBlock';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward, type AngleEncoding, type EdgeLayout, type NeighborhoodAttentionCache } from './neighborhoodAttention';
import { nodeAttentionBackward, nodeAttentionForward, type Erope, type NodeAttentionCache } from './nodeAttention';
import { ffnBackward, ffnForward, type FfnCache } from './ffn';
import { headBackward, headForward } from './heads';
import { extractParams, type ModelParams } from '../model/params';
import { GeometryGradient } from './geometryGradient';

export interface CpuResult {
  /** Total energy, eV (normalisation and element references applied). */
  energy: number;
  /** Raw head output Σ e_i before normalisation. */
  energyRaw: number;
  /** Forces, N×3, eV/Å. */
  forces: Float64Array;
  /** Stress (1/V)·∂E/∂ε, 3×3 row-major, eV/Å³ (periodic conservative models), else null. */
  stress: Float64Array | null;
}

export interface CpuIntermediates {
  graph: NeighborGraph;
  features: EdgeFeatures;
  /** Node state (self-loop slot) after the input block, N×H. */
  inputNode: Float64Array;
  /** Node state after each layer, L × (N×H). */
  layerNodeStates: Float64Array[];
  energyPerAtom: Float64Array;
}

export interface CpuOptions {
  /** Compute the stress (periodic systems); default: when the model regresses stress and the cell is periodic. */
  stress?: boolean;
  intermediates?: boolean;
}

interface LayerCache {
  src: NeighborhoodAttentionCache; dst: NeighborhoodAttentionCache; edgeFfn: FfnCache;
  node: NodeAttentionCache | null; nodeFfn: FfnCache;
}

const paramCache = new WeakMap<LoadedModel, ModelParams>();
function paramsOf(model: LoadedModel): ModelParams {
  let p = paramCache.get(model);
  if (!p) { p = extractParams(model); paramCache.set(model, p); }
  return p;
}

function checkPositions(s: Structure): void {
  const n = s.numbers.length;
  const refuse = (kind: SystemProblemKind, message: string, atoms?: number[]) => {
    throw new UnsupportedSystemError([{ kind, message, ...(atoms ? { atoms } : {}) }], 'this model');
  };
  if (s.positions.length !== 3 * n) refuse('positions-length', `positions hold ${s.positions.length} numbers; ${n} atoms need ${3 * n}`);
  for (let i = 0; i < s.positions.length; i++)
    if (!Number.isFinite(s.positions[i])) refuse('non-finite-position', `atom ${Math.floor(i / 3)} has a non-finite coordinate (${s.positions[i]})`, [Math.floor(i / 3)]);
  if (n === 0) refuse('no-atoms', 'the structure has no atoms');
}

/** Energy, forces and stress of one structure. */
export function computeCpu(model: LoadedModel, structure: Structure, options: CpuOptions = {}): CpuResult & { intermediates?: CpuIntermediates } {
  checkPositions(structure);
  const { architecture: arch, heads, normalization } = model.config;
  const p = paramsOf(model);
  const H = arch.hidden_size, nh = arch.num_heads, eps = arch.rmsnorm_eps;
  const n = structure.numbers.length;
  checkChargeSpin(structure.numbers, structure, arch);
  // Before any compute: an atom without a reference energy is refused, not found after the forward pass.
  const referenceEnergy = elementReferenceEnergy(normalization.element_references, structure.numbers, model.config.name);
  const cell = periodicCell(structure.cell, structure.pbc);

  // ---- forward
  const graph = buildNeighborGraph(structure.positions, cell, arch);
  const feats = computeEdgeFeatures(graph, arch);
  const { bias: keyBias, dBiasDx } = envelopeBias(graph);
  const E = graph.edgeEnv.length;
  const { x: x0, cache: inputCache } = inputBlockForward(p.input, arch, structure.numbers, structure, graph, feats);
  const srcLayout: EdgeLayout = { rowStart: graph.edgeRowStart, edges: null };
  const dstLayout: EdgeLayout = { rowStart: graph.dstRowStart, edges: graph.dstEdges };
  const lae: AngleEncoding | null = arch.use_lae
    ? { channelDegree: laeChannelDegrees(arch.lae_frequency_list), maxDegree: arch.lae_frequency_list.length - 1, sh: feats.sh, shSize: feats.shSize }
    : null;
  const omega = arch.use_erope ? eropeFrequencies(arch.erope_num_freq) : null;
  const eropeOf = (radialWeight: Float64Array | null): Erope | null =>
    omega && radialWeight ? { omega, radialWeight } : null;
  // ERoPE pair distances: minimum image over the graph's images, or the smooth periodic metric.
  const pairs: PairGeometry = {
    numAtoms: n, positions: graph.positions, imageTranslations: graph.imageTranslations, numImages: graph.numImages,
    minimumImage: minimumImageMetric(cell),
    smoothMetric: arch.erope_smooth_minimum_image && cell ? smoothPairMetric(cell) : null,
  };
  const edgeIds: number[] = [];
  for (let e = 0; e < E; e++) if (graph.edgeReverseCand[e] >= 0) edgeIds.push(e);
  const nEdge = edgeIds.length;

  const caches: LayerCache[] = [];
  const layerNodeStates: Float64Array[] = [];
  let x = x0;
  for (const lp of p.layers) {
    const src = neighborhoodAttentionForward(lp.src, x, E, nh, srcLayout, keyBias, lae, eps);
    const dst = neighborhoodAttentionForward(lp.dst, src.y, E, nh, dstLayout, keyBias, lae, eps);
    const nodeIn = gatherRows(dst.y, graph.selfEdge, H);
    const edgeIn = gatherRows(dst.y, edgeIds, H);
    const edgeFfn = ffnForward(lp.edgeFfn, edgeIn, nEdge, eps);
    let nodeMid = nodeIn;
    let node: ReturnType<typeof nodeAttentionForward> | null = null;
    if (lp.node) { node = nodeAttentionForward(lp.node, nodeIn, n, nh, pairs, eropeOf(lp.node.radialWeight), eps); nodeMid = node.y; }
    const nodeFfn = ffnForward(lp.nodeFfn, nodeMid, n, eps);
    x = new Float64Array(E * H);
    scatterRows(x, nodeFfn.y, graph.selfEdge, H);
    scatterRows(x, edgeFfn.y, edgeIds, H);
    caches.push({ src: src.cache, dst: dst.cache, edgeFfn: edgeFfn.cache, node: node ? node.cache : null, nodeFfn: nodeFfn.cache });
    layerNodeStates.push(nodeFfn.y);
  }
  const nodeFinal = gatherRows(x, graph.selfEdge, H);
  const { y: energyPerAtom, cache: headCache } = headForward(p.energyHead, nodeFinal, n, eps);
  let energyRaw = 0;
  for (let a = 0; a < n; a++) energyRaw += energyPerAtom[a];
  const energy = normalization.energy_scale * energyRaw + normalization.energy_shift + referenceEnergy;
  const intermediates: CpuIntermediates | undefined = options.intermediates
    ? { graph, features: feats, inputNode: gatherRows(x0, graph.selfEdge, H), layerNodeStates, energyPerAtom }
    : undefined;

  if (heads.forces === 'direct') {
    if (!p.forceHead) throw new Error('the model is configured for direct forces but has no force head');
    const { y: fRaw } = headForward(p.forceHead, nodeFinal, n, eps);
    const forces = new Float64Array(n * 3);
    for (let i = 0; i < forces.length; i++) forces[i] = normalization.energy_scale * fRaw[i];
    return { energy, energyRaw, forces, stress: null, intermediates };
  }

  // ---- backward: ∂E_raw/∂(everything), down to the displacements
  const geometry = new GeometryGradient(n);
  const gradKeyBias = new Float64Array(E);
  const gradSh = new Float64Array(E * feats.shSize);
  const dEnergyPerAtom = new Float64Array(n).fill(1);
  let dx: Float64Array = new Float64Array(E * H);
  scatterRows(dx, headBackward(p.energyHead, headCache, dEnergyPerAtom, n), graph.selfEdge, H);
  for (let l = p.layers.length - 1; l >= 0; l--) {
    const lp = p.layers[l], c = caches[l];
    let dNode = ffnBackward(lp.nodeFfn, c.nodeFfn, gatherRows(dx, graph.selfEdge, H));
    if (lp.node && c.node) dNode = nodeAttentionBackward(lp.node, c.node, dNode, n, nh, pairs, eropeOf(lp.node.radialWeight), geometry);
    const dEdge = ffnBackward(lp.edgeFfn, c.edgeFfn, gatherRows(dx, edgeIds, H));
    const dDst = new Float64Array(E * H);
    scatterRows(dDst, dNode, graph.selfEdge, H);
    scatterRows(dDst, dEdge, edgeIds, H);
    const dSrc = neighborhoodAttentionBackward(lp.dst, c.dst, dDst, E, nh, dstLayout, keyBias, lae, gradKeyBias, gradSh);
    dx = neighborhoodAttentionBackward(lp.src, c.src, dSrc, E, nh, srcLayout, keyBias, lae, gradKeyBias, gradSh);
  }
  const { gradRbf, gradBoo } = inputBlockBackward(p.input, arch, graph, feats, inputCache, dx, gradSh);
  booBackward(graph, arch, feats, gradBoo, gradSh, gradKeyBias);
  const gradEnv = new Float64Array(E);
  for (let e = 0; e < E; e++) gradEnv[e] = gradKeyBias[e] * dBiasDx[e];
  const gradDist = rbfBackward(graph, feats, gradRbf, arch.rbf_size);
  const gradUnit = shBackward(graph, feats, gradSh);
  const gradDisp = neighborGraphBackward(graph, arch, gradEnv, gradDist, gradUnit);
  for (let a = 0; a < n; a++)
    for (let cnd = graph.candRowStart[a]; cnd < graph.candRowStart[a + 1]; cnd++)
      geometry.addDisplacement(a, graph.candNeighbor[cnd], graph.candDisp, 3 * cnd, gradDisp, 3 * cnd);

  const scale = normalization.energy_scale;
  const forces = new Float64Array(n * 3);
  for (let i = 0; i < forces.length; i++) forces[i] = -scale * geometry.gradPositions[i];
  const wantStress = options.stress ?? (heads.regress_stress && cell !== null);
  let stress: Float64Array | null = null;
  if (wantStress) {
    if (!structure.cell) throw new Error('stress needs a cell');
    const V = cellVolume(structure.cell);
    stress = new Float64Array(9);
    const S = geometry.strain;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) stress[3 * i + j] = (scale * 0.5 * (S[3 * i + j] + S[3 * j + i])) / V;
  }
  return { energy, energyRaw, forces, stress, intermediates };
}

/** Several systems: each is its own graph and its own node-attention sequence. */
export function computeCpuBatch(model: LoadedModel, structures: Structure[], options: CpuOptions = {}): CpuResult[] {
  return structures.map((s) => computeCpu(model, s, options));
}

function gatherRows(x: Float64Array, rows: ArrayLike<number>, H: number): Float64Array {
  const out = new Float64Array(rows.length * H);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * H, rows[i] * H + H), i * H);
  return out;
}

function scatterRows(target: Float64Array, src: Float64Array, rows: ArrayLike<number>, H: number): void {
  for (let i = 0; i < rows.length; i++) target.set(src.subarray(i * H, i * H + H), rows[i] * H);
}
