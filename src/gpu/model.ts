// AllScAIP energy, forces and stress on WebGPU: the blocks of src/cpu/model.ts (src/gpu/blocks/, one module
// per block with its forward and backward) over the padded slot layout of the GPU graph (N atoms × K slots;
// slot 0 = self-loop = node state): graph → features → input block → per layer: neighbourhood attention in
// the source then destination layout, edge FFN, node attention, node FFN → energy head → the backward in
// reverse → feature and graph backward to ∂E/∂positions and the strain sum. Activations are workspace
// tensors of the recording (src/gpu/workspace.ts), which share buffers by liveness; weights are uploaded
// once per model.

import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { elementReferenceEnergy } from '../model/referenceEnergy';
import { extractParams } from '../model/params';
import { checkChargeSpin } from '../model/systemCheck';
import { eropeFrequencies, laeChannelDegrees } from '../model/architecture';
import { gelu, linear } from '../cpu/ops';
import type { GpuRuntime, Recorder } from './runtime';
import type { Tensor } from './workspace';
import { checkGraphStatus, planGraph, readGraphStatus, recordGraphBackward, recordGraphBuild, safeSlotBudget, type GpuGraph } from './ops/graph';
import { recordEdgeFeatures, recordFeaturesBackward, type GpuFeaturesWithoutRbf } from './ops/features';
import { packImages, type NodeAttentionGeometry } from './ops/nodeAttention';
import { cellVolume } from '../geometry/cell';
import { imageTranslations } from '../geometry/periodicImages';
import { addSelf, mergeSelf, placeSelf, splitSelf, zero3 } from './ops/rows';
import { WeightUploader, type BlockContext, type GpuAttention, type GpuFfn, type GpuHead } from './blocks/context';
import * as inputBlock from './blocks/inputBlock';
import * as neighborhoodAttention from './blocks/neighborhoodAttention';
import * as nodeAttention from './blocks/nodeAttention';
import * as ffn from './blocks/ffn';
import * as energyHead from './blocks/heads';

export interface GpuResult {
  energy: number;
  energyRaw: number;
  /** N×3, eV/Å. */
  forces: Float64Array;
  /** 3×3 row-major, eV/Å³, periodic conservative models; else null. */
  stress: Float64Array | null;
  /** GPU milliseconds per model stage, when the runtime's timing is on and the device has timestamps. */
  stageMs?: Record<string, number>;
}

/** What the graph and the model need besides positions (a Structure is one). */
export type GpuSystem = Pick<Structure, 'numbers' | 'cell' | 'pbc' | 'charge' | 'spin'>;

/** What GpuModel.record fills (float32); they hold their values once the recording has run. */
export interface RecordedForces {
  /** E_raw (1 value): energy = energy_scale·E_raw + energyOffset(numbers). */
  energyRaw: Tensor;
  /** ∂E_raw/∂positions, N×3. */
  gradPositions: GPUBuffer;
  /** Σ disp ⊗ ∂E_raw/∂disp, 3×3 row-major: stress = energy_scale·sym(strain)/V. */
  strain: GPUBuffer;
  graph: GpuGraph;
}

interface GpuLayer { src: GpuAttention; dst: GpuAttention; edgeFfn: GpuFfn; node: GpuAttention | null; nodeFfn: GpuFfn }

/** What a layer's backward pass reads (the edge FFN of the last layer feeds nothing the energy reads). */
interface LayerSaved {
  src: neighborhoodAttention.NeighborhoodAttentionSaved; dst: neighborhoodAttention.NeighborhoodAttentionSaved;
  edgeFfn: ffn.FfnSaved | null; node: nodeAttention.NodeAttentionSaved | null; nodeFfn: ffn.FfnSaved;
}

/** ∂E/∂(a layer's output): on the node (self-loop) rows and on the edge slots (null: none reaches them). */
interface LayerOutputGrad { node: Tensor; edge: Tensor | null }

/** One recording: its block context and the graph-derived inputs every block reads. */
interface Recording {
  c: BlockContext;
  graph: GpuGraph;
  features: GpuFeaturesWithoutRbf;
  inputs: inputBlock.InputBlockInputs;
  neighborhood: neighborhoodAttention.NeighborhoodGraph;
  nodes: nodeAttention.NodeAttentionInputs;
}

/** Accumulators the backward pass adds into, zeroed inside the program so that a replayed step starts clean. */
interface GeometryGrads { gradBias: Tensor; gradSh: Tensor; erope: Tensor }

export class GpuModel {
  private readonly layers: GpuLayer[];
  private readonly head: GpuHead;
  private readonly input: inputBlock.GpuInputBlock;
  private readonly cpuParams: ReturnType<typeof extractParams>;

  constructor(readonly rt: GpuRuntime, readonly model: LoadedModel) {
    const arch = model.config.architecture;
    if (model.config.heads.forces !== 'conservative') throw new Error('the WebGPU runtime computes conservative forces only (this model has a direct force head)');
    if (arch.hidden_size % arch.num_heads !== 0) throw new Error('hidden_size must be a multiple of num_heads');
    const p = extractParams(model);
    this.cpuParams = p;
    const w = new WeightUploader(rt);
    // [node ‖ edge attributes] input: the node part runs per atom (inputBlock.ts)
    const [edgeFeatureNode, edgeFeatureEdge] = w.columnSplit('edge_feature', p.input.edgeFeatureLinear, arch.hidden_size);
    this.input = {
      atomEmbedding: w.vector('atom_embedding', p.input.atomEmbedding), booLinear: w.linear('boo', p.input.booLinear),
      nodeLinear: w.normLinear('node_linear', p.input.nodeLinear, p.input.nodeNorm),
      edgeAttrLinear: w.linear('edge_attr', p.input.edgeAttrLinear), edgeFeatureNode, edgeFeatureEdge,
    };
    this.layers = p.layers.map((l, i) => ({
      src: w.attention(`l${i}.src`, l.src), dst: w.attention(`l${i}.dst`, l.dst), edgeFfn: w.ffn(`l${i}.effn`, l.edgeFfn),
      node: l.node ? w.attention(`l${i}.node`, l.node) : null, nodeFfn: w.ffn(`l${i}.nffn`, l.nodeFfn),
    }));
    this.head = w.head('energy_head', p.energyHead);
  }

  /** Charge/spin embedding GELU(Lin([ChargeEmb[q+100], SpinEmb[s]])): position independent, so computed here. */
  private chargeSpinVector(charge: number, spin: number): Float32Array | null {
    const p = this.cpuParams.input;
    if (!p.chargeEmbedding || !p.spinEmbedding || !p.chargeSpinLinear) return null;
    const H = this.model.config.architecture.hidden_size;
    const inp = new Float64Array(2 * H);
    inp.set(p.chargeEmbedding.subarray((charge + 100) * H, (charge + 101) * H), 0);
    inp.set(p.spinEmbedding.subarray(spin * H, (spin + 1) * H), H);
    return Float32Array.from(gelu(linear(inp, 1, 2 * H, p.chargeSpinLinear.W, p.chargeSpinLinear.b, H)));
  }

  /**
   * Energy, forces and (periodic) stress of one structure. Reads back the results. `slots` fixes the
   * slot budget K (default: sized from the graph's actual maximum edge count after a first build).
   */
  async compute(structure: Structure, options: { stress?: boolean; slots?: number } = {}): Promise<GpuResult> {
    const { rt } = this;
    const { heads, normalization } = this.model.config;
    const n = structure.numbers.length;
    checkChargeSpin(structure.numbers, structure, this.model.config.architecture);
    // Before any kernel runs: an atom without a reference energy is refused up front.
    const energyOffset = this.energyOffset(structure.numbers);
    const periodic = !!structure.cell && structure.pbc.some(Boolean);
    const positions = rt.upload('model.positions', Float32Array.from(structure.positions));
    const K = options.slots ?? await this.slotBudget(structure, positions);
    const rec = rt.recorder('energy-forces');
    const out = this.record(rec, structure, positions, K);
    await rec.submit();
    const stageTimes = await rec.readStageTimes();

    const energyRaw = (await rt.read(out.energyRaw.buffer!, 1))[0];
    const grad = await rt.read(out.gradPositions, 3 * n);
    const strain = await rt.read(out.strain, 9);
    const energy = normalization.energy_scale * energyRaw + energyOffset;
    const scale = normalization.energy_scale;
    const forces = Float64Array.from(grad, (v) => -scale * v);
    const wantStress = options.stress ?? (heads.regress_stress && periodic);
    let stress: Float64Array | null = null;
    if (wantStress && structure.cell) {
      const V = cellVolume(structure.cell);
      stress = new Float64Array(9);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) stress[3 * i + j] = (scale * 0.5 * (strain[3 * i + j] + strain[3 * j + i])) / V;
    }
    return { energy, energyRaw, forces, stress, ...(stageTimes ? { stageMs: Object.fromEntries(stageTimes) } : {}) };
  }

  /** energy = energy_scale·E_raw + this: the shift plus the element reference energies. */
  energyOffset(numbers: ArrayLike<number>): number {
    const { normalization } = this.model.config;
    return normalization.energy_shift + elementReferenceEnergy(normalization.element_references, numbers, this.model.config.name);
  }

  /**
   * The tightest slot budget K for these positions (N×3 f32 on the GPU): one graph build with the
   * budget that never overflows and a small read-back of its status. Throws what the CPU runtime
   * would for non-finite or overlapping atoms.
   */
  async slotBudget(system: GpuSystem, positions: GPUBuffer): Promise<number> {
    const { rt } = this;
    const arch = this.model.config.architecture;
    const g = planGraph(rt, arch, system.numbers.length, graphCell(system), safeSlotBudget(arch));
    const rec = rt.recorder('graph');
    recordGraphBuild(rt, rec, g, positions);
    await rec.submit();
    const status = await readGraphStatus(rt, g);
    checkGraphStatus(status, g);
    return Math.max(1, status.maxEdges);
  }

  /**
   * Queue energy and forces of `system` at `positions` (N×3 f32, Å) with slot budget K into `rec`:
   * the graph, the forward pass and the whole backward. Nothing is read back; the returned buffers
   * hold E_raw, ∂E_raw/∂positions and the strain sum once `rec` has run.
   */
  record(rec: Recorder, system: GpuSystem, positions: GPUBuffer, K: number, positionsStride: 3 | 4 = 3): RecordedForces {
    const r = this.prepare(rec, system, positions, K, positionsStride);
    const { c } = r;
    rec.stage('input block');
    const input = inputBlock.forward(c, this.input, r.inputs);
    let x = input.x, node = x;
    const saved = this.layers.map((layer, l) => {
      const out = this.layerForward(r, layer, l, x, l === this.layers.length - 1);
      ({ x, node } = out);
      return out.saved;
    });
    rec.stage('energy head');
    const energyRaw = c.ws.persistent('energy_raw', 1, 1);
    const head = energyHead.forward(c, this.head, node, energyRaw);

    rec.stage('backward: energy head');
    const grads = this.geometryGrads(r);
    let d: LayerOutputGrad = { node: energyHead.backward(c, this.head, head), edge: null };
    let dx = x;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      dx = this.layerBackward(r, this.layers[l], saved[l], l, d, grads);
      if (l > 0) d = this.splitSelf(c, dx, `layer${l - 1}`);
    }
    rec.stage('backward: input block');
    const { gradDistance, distanceParts, gradBoo } = inputBlock.backward(c, this.input, r.inputs, input.saved, dx, grads.gradSh);
    rec.stage('backward: features + graph');
    const slot = recordFeaturesBackward(c.rt, rec, r.graph, r.features, {
      gradBias: grads.gradBias, gradRbf: gradDistance, gradIsDistance: true, distanceParts, gradSh: grads.gradSh, gradBoo,
    });
    const arch = this.model.config.architecture;
    const geo = recordGraphBackward(c.rt, rec, r.graph, { ...slot, extra: arch.use_node_attention && arch.use_erope ? grads.erope : undefined });
    return { energyRaw, gradPositions: geo.gradPositions, strain: geo.strain, graph: r.graph };
  }

  /** The graph and the features, and what the blocks read of them. */
  private prepare(rec: Recorder, system: GpuSystem, positions: GPUBuffer, K: number, positionsStride: 3 | 4): Recording {
    const { rt } = this;
    const arch = this.model.config.architecture;
    const n = system.numbers.length, H = arch.hidden_size;
    const graph = planGraph(rt, arch, n, graphCell(system), K);
    const c: BlockContext = { rt, rec, ws: rec.workspace, n, K, E: n * K, H, eps: arch.rmsnorm_eps };
    rec.stage('graph');
    recordGraphBuild(rt, rec, graph, positions, positionsStride);
    rec.stage('features');
    // no N·K·rbf_size table: the edge-attribute layer makes the RBF values itself
    const features = recordEdgeFeatures(rt, rec, graph, arch, { rbf: false });
    const cs = this.chargeSpinVector(system.charge, system.spin);
    const inputs: inputBlock.InputBlockInputs = {
      numbers: rt.upload('model.numbers', Uint32Array.from(system.numbers)), boo: features.boo,
      chargeSpin: cs ? rt.upload('model.chargeSpin', cs) : null,
      edge: {
        slots: c.E, slotMeta: graph.slotMeta, slotGeom: graph.slotGeom, sh: features.sh, shStride: features.shSize,
        rbfSize: arch.rbf_size, cutoff: arch.cutoff, rbfCoeff: features.params.rbf_coeff,
      },
    };
    const lae = arch.use_lae ? { sh: features.sh, shSize: features.shSize, channelDegree: laeChannelDegrees(arch.lae_frequency_list) } : null;
    const neighborhood = { slotKey: graph.slotKey, lae, numHeads: arch.num_heads };
    const nodes = { geometry: this.nodeGeometry(c, system, graph), omega: arch.use_erope ? eropeFrequencies(arch.erope_num_freq) : null, numHeads: arch.num_heads };
    return { c, graph, features, inputs, neighborhood, nodes };
  }

  /** Positions and image translations (and, for the smooth periodic ERoPE distance, the cell) for node attention. */
  private nodeGeometry(c: BlockContext, system: GpuSystem, g: GpuGraph): NodeAttentionGeometry {
    const arch = this.model.config.architecture;
    const periodic = !!system.cell && system.pbc.some(Boolean);
    const translations = Float32Array.from(imageTranslations(g.imageShifts, periodic ? system.cell : null));
    // erope_smooth_minimum_image: ERoPE's smooth periodic distance needs the cell (common.wgsl, SMOOTH_PBC).
    const smooth = arch.use_erope && arch.erope_smooth_minimum_image && periodic;
    const packed = packImages([translations], smooth ? [{ vectors: system.cell!, pbc: system.pbc }] : undefined);
    return { atoms: g.atoms, aux: c.rt.upload('model.aux', packed.aux), imagesOffset: packed.imagesOffset, metricOffset: packed.metricOffset, smooth };
  }

  /** One layer (src/cpu/model.ts's loop body); the last layer's output is its node state only. */
  private layerForward(r: Recording, layer: GpuLayer, l: number, x: Tensor, last: boolean): { x: Tensor; node: Tensor; saved: LayerSaved } {
    const { c } = r;
    const tag = `layer${l}`;
    c.rec.stage('neighborhood attention');
    const src = neighborhoodAttention.forward(c, layer.src, r.neighborhood, x, 'src', `${tag}.src`);
    // the node path starts from slot 0 of the dst attention's output (written there by its output layer)
    const nodeIn = c.ws.tensor(`${tag}.node_in`, c.n, c.H);
    const dst = neighborhoodAttention.forward(c, layer.dst, r.neighborhood, src.y, 'dst', `${tag}.dst`, nodeIn);
    c.rec.stage('FFN');
    const edgeFfn = last ? null : ffn.forward(c, layer.edgeFfn, dst.y, `${tag}.edge_ffn`, true);
    c.rec.stage('node attention');
    const node = layer.node ? nodeAttention.forward(c, layer.node, r.nodes, nodeIn, `${tag}.node_attention`) : null;
    c.rec.stage('FFN');
    const nodeFfn = ffn.forward(c, layer.nodeFfn, node ? node.y : nodeIn, `${tag}.node_ffn`);
    const saved = { src: src.saved, dst: dst.saved, edgeFfn: edgeFfn?.saved ?? null, node: node?.saved ?? null, nodeFfn: nodeFfn.saved };
    if (!edgeFfn) return { x: nodeFfn.y, node: nodeFfn.y, saved };
    const out = c.ws.tensor(`${tag}.x`, c.E, c.H);
    mergeSelf(c.rt, c.rec, c.E, c.H, c.K, edgeFfn.y, nodeFfn.y, out);
    return { x: out, node: nodeFfn.y, saved };
  }

  /** ∂E/∂(layer input) from ∂E/∂(layer output). */
  private layerBackward(r: Recording, layer: GpuLayer, s: LayerSaved, l: number, d: LayerOutputGrad, grads: GeometryGrads): Tensor {
    const { c } = r;
    const tag = `layer${l}`;
    c.rec.stage('backward: node FFN');
    let dNode = ffn.backward(c, layer.nodeFfn, s.nodeFfn, d.node, `${tag}.node_ffn`);
    c.rec.stage('backward: node attention');
    if (layer.node && s.node) dNode = nodeAttention.backward(c, layer.node, r.nodes, s.node, dNode, grads.erope, `${tag}.node_attention`);
    c.rec.stage('backward: edge FFN + neighborhood attention');
    // the node path read slot 0 of the dst attention's output
    let dDst: Tensor;
    if (s.edgeFfn && d.edge) {
      dDst = ffn.backward(c, layer.edgeFfn, s.edgeFfn, d.edge, `${tag}.edge_ffn`);
      addSelf(c.rt, c.rec, c.n, c.H, c.K, dNode, dDst);
    } else {
      dDst = c.ws.tensor(`${tag}.edge_ffn.d_input`, c.E, c.H);
      placeSelf(c.rt, c.rec, c.E, c.H, c.K, dNode, dDst);
    }
    const g = { gradBias: grads.gradBias, gradSh: r.neighborhood.lae ? grads.gradSh : null };
    const dSrc = neighborhoodAttention.backward(c, layer.dst, r.neighborhood, s.dst, dDst, 'dst', g, `${tag}.dst`);
    return neighborhoodAttention.backward(c, layer.src, r.neighborhood, s.src, dSrc, 'src', g, `${tag}.src`);
  }

  /** A layer output's gradient as the next layer down sees it: node rows (slot 0) and edge slots (slot 0 zeroed). */
  private splitSelf(c: BlockContext, dx: Tensor, tag: string): LayerOutputGrad {
    const node = c.ws.tensor(`${tag}.d_node_out`, c.n, c.H), edge = c.ws.tensor(`${tag}.d_edge_out`, c.E, c.H);
    splitSelf(c.rt, c.rec, c.E, c.H, c.K, dx, edge, node);
    return { node, edge };
  }

  private geometryGrads(r: Recording): GeometryGrads {
    const { c } = r;
    const gradBias = c.ws.tensor('d_key_bias', c.E, 1), gradSh = c.ws.tensor('d_sh', c.E, r.features.shSize), erope = c.ws.tensor('d_erope_geometry', c.n, 12);
    zero3(c.rt, c.rec, [gradBias, c.E], [gradSh, gradSh.words], [erope, erope.words]);
    return { gradBias, gradSh, erope };
  }
}

function graphCell(system: GpuSystem) {
  const periodic = !!system.cell && system.pbc.some(Boolean);
  return { vectors: periodic ? system.cell : null, pbc: system.pbc };
}
