// AllScAIP energy, forces and stress on WebGPU: the stages of src/cpu/model.ts chained as GPU
// kernels, forward then backward, over the padded slot layout of the GPU graph (N atoms × K slots;
// slot 0 = self-loop = node state). Buffers are pooled by name in the GpuRuntime and reused from
// step to step; weights are uploaded once per model.
//
// Stage → kernels: graph (ops/graph.ts) → features (ops/features.ts) → input block (ops/linear.ts,
// ops/rows.ts) → per layer: RMSNorm, fused q|k|v projection, neighborhood attention in the source
// then destination layout (ops/neighborhoodAttention.ts), edge FFN, node attention
// (ops/nodeAttention.ts), node FFN → energy head → backward in reverse → feature and graph backward
// to ∂E/∂positions and the strain sum.

import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { elementReferenceEnergy } from '../model/referenceEnergy';
import { extractParams, type AttentionParams, type FfnParams, type HeadParams, type LinearParams } from '../cpu/params';
import { checkChargeSpin } from '../cpu/inputBlock';
import { eropeFrequencies } from '../cpu/features';
import { laeChannelDegrees } from '../cpu/neighborhoodAttention';
import { gelu, linear } from '../cpu/ops';
import type { GpuRuntime, Recorder } from './runtime';
import {
  edgeInputDistanceParts, edgeInputLinearBackward, edgeInputLinearForward, linearBackwardInput, linearForward, type EdgeInput,
  type LinearLayer,
} from './ops/linear';
import { checkGraphStatus, planGraph, readGraphStatus, recordGraphBackward, recordGraphBuild, cellVolumeOf, safeSlotBudget, type GpuGraph } from './ops/graph';
import { recordEdgeFeatures, recordFeaturesBackward } from './ops/features';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward } from './ops/neighborhoodAttention';
import { nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, packImages } from './ops/nodeAttention';
import {
  addSelf, addVector, broadcastRows, copyCols, embed, fill, gatherSelf, maskSelf, mergeSelf, packAtomsGpu,
  scaleAdd, sumRows, sumSlots,
} from './ops/rows';
import { rmsNormBackward as rmsNormBackwardRows, rmsNormForward as rmsNormForwardRows } from './ops/elementwise';

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

/** Buffers GpuModel.record fills (float32). */
export interface RecordedForces {
  /** E_raw (1 value): energy = energy_scale·E_raw + energyOffset(numbers). */
  energyRaw: GPUBuffer;
  /** ∂E_raw/∂positions, N×3. */
  gradPositions: GPUBuffer;
  /** Σ disp ⊗ ∂E_raw/∂disp, 3×3 row-major: stress = energy_scale·sym(strain)/V. */
  strain: GPUBuffer;
  graph: GpuGraph;
}

interface GpuAttention { qkv: LinearLayer; q: LinearLayer; k: LinearLayer; v: LinearLayer; out: LinearLayer; norm: GPUBuffer; resScale: number; radialWeight: Float64Array | null }
interface GpuFfn { lin1: LinearLayer; lin2: LinearLayer; norm: GPUBuffer; resScale: number }
interface GpuLayer { src: GpuAttention; dst: GpuAttention; edgeFfn: GpuFfn; node: GpuAttention | null; nodeFfn: GpuFfn }
interface GpuHead { norm: GPUBuffer; lin1: LinearLayer; lin2: LinearLayer }

export class GpuModel {
  private readonly layers: GpuLayer[];
  private readonly head: GpuHead;
  private readonly input: {
    atomEmbedding: GPUBuffer; booLinear: LinearLayer; nodeNorm: GPUBuffer; nodeLinear: LinearLayer;
    edgeAttrLinear: LinearLayer; edgeFeatureLinear: LinearLayer;
  };
  private readonly cpuParams: ReturnType<typeof extractParams>;
  private bufferSeq = 0;

  constructor(readonly rt: GpuRuntime, readonly model: LoadedModel) {
    const arch = model.config.architecture;
    if (model.config.heads.forces !== 'conservative') throw new Error('the WebGPU runtime computes conservative forces only (this model has a direct force head)');
    const p = extractParams(model);
    this.cpuParams = p;
    const vec = (name: string, v: Float64Array) => rt.upload(`w.${this.bufferSeq++}.${name}`, Float32Array.from(v));
    const lin = (name: string, l: LinearParams): LinearLayer => ({
      weight: vec(`${name}.W`, l.W), bias: l.b ? vec(`${name}.b`, l.b) : null, inDim: l.inDim, outDim: l.outDim,
    });
    const fused = (name: string, a: AttentionParams): LinearLayer => {
      const H = a.q.inDim;
      const W = new Float64Array(3 * H * H), b = new Float64Array(3 * H);
      [a.q, a.k, a.v].forEach((l, i) => { W.set(l.W, i * H * H); if (l.b) b.set(l.b, i * H); });
      return { weight: vec(`${name}.qkv.W`, W), bias: vec(`${name}.qkv.b`, b), inDim: H, outDim: 3 * H };
    };
    const attn = (name: string, a: AttentionParams): GpuAttention => ({
      qkv: fused(name, a), q: lin(`${name}.q`, a.q), k: lin(`${name}.k`, a.k), v: lin(`${name}.v`, a.v),
      out: lin(`${name}.out`, a.out), norm: vec(`${name}.norm`, a.norm), resScale: a.resScale, radialWeight: a.radialWeight,
    });
    const ffn = (name: string, f: FfnParams): GpuFfn => ({ lin1: lin(`${name}.1`, f.lin1), lin2: lin(`${name}.2`, f.lin2), norm: vec(`${name}.norm`, f.norm), resScale: f.resScale });
    const head = (name: string, h: HeadParams): GpuHead => ({ norm: vec(`${name}.norm`, h.norm), lin1: lin(`${name}.1`, h.lin1), lin2: lin(`${name}.2`, h.lin2) });
    this.input = {
      atomEmbedding: vec('atom_embedding', p.input.atomEmbedding), booLinear: lin('boo', p.input.booLinear),
      nodeNorm: vec('node_norm', p.input.nodeNorm), nodeLinear: lin('node_linear', p.input.nodeLinear),
      edgeAttrLinear: lin('edge_attr', p.input.edgeAttrLinear), edgeFeatureLinear: lin('edge_feature', p.input.edgeFeatureLinear),
    };
    this.layers = p.layers.map((l, i) => ({
      src: attn(`l${i}.src`, l.src), dst: attn(`l${i}.dst`, l.dst), edgeFfn: ffn(`l${i}.effn`, l.edgeFfn),
      node: l.node ? attn(`l${i}.node`, l.node) : null, nodeFfn: ffn(`l${i}.nffn`, l.nodeFfn),
    }));
    this.head = head('energy_head', p.energyHead);
    if (arch.hidden_size % arch.num_heads !== 0) throw new Error('hidden_size must be a multiple of num_heads');
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

    const energyRaw = (await rt.read(out.energyRaw, 1))[0];
    const grad = await rt.read(out.gradPositions, 3 * n);
    const strain = await rt.read(out.strain, 9);
    const energy = normalization.energy_scale * energyRaw + energyOffset;
    const scale = normalization.energy_scale;
    const forces = Float64Array.from(grad, (v) => -scale * v);
    const wantStress = options.stress ?? (heads.regress_stress && periodic);
    let stress: Float64Array | null = null;
    if (wantStress && structure.cell) {
      const V = cellVolumeOf(structure.cell);
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
  record(rec: Recorder, system: GpuSystem, positions: GPUBuffer, K: number): RecordedForces {
    const { rt } = this;
    const arch = this.model.config.architecture;
    const n = system.numbers.length;
    const periodic = !!system.cell && system.pbc.some(Boolean);
    const H = arch.hidden_size, nh = arch.num_heads, d = H / nh, eps = arch.rmsnorm_eps;
    const g: GpuGraph = planGraph(rt, arch, n, graphCell(system), K);
    const E = n * K;
    rec.stage('graph');
    recordGraphBuild(rt, rec, g, positions);
    // no N·K·rbf_size table: the edge-attribute layer makes the RBF values itself
    rec.stage('features');
    const f = recordEdgeFeatures(rt, rec, g, arch, { rbf: false });
    const buf = (name: string, words: number) => rt.buffer(`model.${name}`, words * 4);
    const rmsNormForward = (rows: number, dim: number, x: GPUBuffer, weight: GPUBuffer, y: GPUBuffer, invRms: GPUBuffer) =>
      rmsNormForwardRows(rt, rec, { x, weight, rows, dim, eps, y, invRms });
    /** dx = RMSNorm'ᵀ·dy (+ dres, the residual branch's share). */
    const rmsNormBackward = (rows: number, dim: number, x: GPUBuffer, weight: GPUBuffer, invRms: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, dres: GPUBuffer | null) => {
      if (!dres) return rmsNormBackwardRows(rt, rec, { x, weight, rows, dim, invRms, dy, dx });
      const part = buf(`rmsnorm.part.${dim === H ? (rows === E ? 'edge' : 'node') : 'cat'}`, rows * dim);
      rmsNormBackwardRows(rt, rec, { x, weight, rows, dim, invRms, dy, dx: part });
      scaleAdd(rt, rec, rows * dim, dres, part, dx, 1, 1);
    };

    rec.stage('input block');
    // ---- input block
    const zBuf = rt.upload('model.numbers', Uint32Array.from(system.numbers));
    const nBoo = arch.boo_lmax + 1;
    const booPre = buf('booPre', n * H), bdir = buf('bdir', n * H);
    linearForward(rt, rec, { x: f.boo, rows: n, layer: this.input.booLinear, y: bdir, gelu: true, pre: booPre });
    const cat = buf('nodeCat', n * 2 * H);
    embed(rt, rec, n, H, this.input.atomEmbedding, zBuf, cat, 2 * H, 0);
    copyCols(rt, rec, n, H, bdir, H, 0, cat, 2 * H, H);
    const catNorm = buf('nodeCatNorm', n * 2 * H), catInv = buf('nodeCatInv', n);
    rmsNormForward(n, 2 * H, cat, this.input.nodeNorm, catNorm, catInv);
    const nodePre = buf('nodePre', n * H), node0 = buf('node0', n * H);
    linearForward(rt, rec, { x: catNorm, rows: n, layer: this.input.nodeLinear, y: node0, gelu: true, pre: nodePre });
    const cs = this.chargeSpinVector(system.charge, system.spin);
    if (cs) addVector(rt, rec, n, H, rt.upload('model.chargeSpin', cs), node0);
    const edgeInput: EdgeInput = {
      slots: E, slotMeta: g.slotMeta, slotGeom: g.slotGeom, sh: f.sh, shStride: f.shSize,
      rbfSize: arch.rbf_size, cutoff: arch.cutoff, rbfCoeff: f.params.rbf_coeff,
    };
    const eattrPre = buf('eattrPre', E * H), eattr = buf('eattr', E * H);
    edgeInputLinearForward(rt, rec, { input: edgeInput, layer: this.input.edgeAttrLinear, y: eattr, gelu: true, pre: eattrPre });
    const featIn = buf('featIn', E * 2 * H);
    broadcastRows(rt, rec, E, H, K, node0, featIn, 2 * H, 0);
    copyCols(rt, rec, E, H, eattr, H, 0, featIn, 2 * H, H);
    const featPre = buf('featPre', E * H);
    let x = buf('x.in', E * H);
    linearForward(rt, rec, { x: featIn, rows: E, layer: this.input.edgeFeatureLinear, y: x, gelu: true, pre: featPre });

    // ---- layers (every intermediate the backward pass needs gets its own buffer)
    const lae = arch.use_lae ? { sh: f.sh, shSize: f.shSize, channelDegree: laeChannelDegrees(arch.lae_frequency_list) } : null;
    const nbhdBase = { rows: n, slots: K, numHeads: nh, headDim: d, slotMeta: g.slotMeta, slotBias: g.slotBias, lae };
    const atoms = buf('atoms', 4 * n);
    packAtomsGpu(rt, rec, n, g.positions, atoms);
    const imageTranslations = new Float32Array(g.numImages * 3);
    for (let m = 0; m < g.numImages; m++)
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let q = 0; q < 3; q++) s += g.imageShifts[3 * m + q] * (periodic ? system.cell![3 * q + k] : 0);
        imageTranslations[3 * m + k] = s;
      }
    // erope_smooth_minimum_image: ERoPE's smooth periodic distance needs the cell (common.wgsl, SMOOTH_PBC).
    const smooth = arch.use_erope && arch.erope_smooth_minimum_image && periodic;
    const packed = packImages([imageTranslations], smooth ? [{ vectors: system.cell!, pbc: system.pbc }] : undefined);
    const geometry = {
      atoms, aux: rt.upload('model.aux', packed.aux), imagesOffset: packed.imagesOffset,
      metricOffset: packed.metricOffset, smooth,
    };
    const omega = arch.use_erope ? eropeFrequencies(arch.erope_num_freq) : null;
    const nodeShape = { n, numHeads: nh, headDim: d };

    const attnForward = (l: number, tag: string, a: GpuAttention, xin: GPUBuffer, layout: 'src' | 'dst') => {
      const c = {
        xn: buf(`${l}.${tag}.xn`, E * H), inv: buf(`${l}.${tag}.inv`, E), qkv: buf(`${l}.${tag}.qkv`, E * 3 * H),
        o: buf(`${l}.${tag}.o`, E * H), u: buf(`${l}.${tag}.u`, E * H), y: buf(`${l}.${tag}.y`, E * H),
      };
      rec.stage('neighborhood attention');
      rmsNormForward(E, H, xin, a.norm, c.xn, c.inv);
      linearForward(rt, rec, { x: c.xn, rows: E, layer: a.qkv, y: c.qkv });
      neighborhoodAttentionForward(rt, rec, { ...nbhdBase, layout, qkv: c.qkv, o: c.o });
      linearForward(rt, rec, { x: c.o, rows: E, layer: a.out, y: c.u });
      scaleAdd(rt, rec, E * H, xin, c.u, c.y, 1, a.resScale);
      return c;
    };
    const ffnForward = (l: number, tag: string, fp: GpuFfn, xin: GPUBuffer, rows: number) => {
      const c = {
        xn: buf(`${l}.${tag}.xn`, rows * H), inv: buf(`${l}.${tag}.inv`, rows), pre: buf(`${l}.${tag}.pre`, rows * fp.lin1.outDim),
        h: buf(`${l}.${tag}.h`, rows * fp.lin1.outDim), u: buf(`${l}.${tag}.u`, rows * H), y: buf(`${l}.${tag}.y`, rows * H),
      };
      rec.stage('FFN');
      rmsNormForward(rows, H, xin, fp.norm, c.xn, c.inv);
      linearForward(rt, rec, { x: c.xn, rows, layer: fp.lin1, y: c.h, gelu: true, pre: c.pre });
      linearForward(rt, rec, { x: c.h, rows, layer: fp.lin2, y: c.u });
      scaleAdd(rt, rec, rows * H, xin, c.u, c.y, 1, fp.resScale);
      return c;
    };
    const caches = this.layers.map((layer, l) => {
      const xin = x;
      const src = attnForward(l, 'src', layer.src, xin, 'src');
      const dst = attnForward(l, 'dst', layer.dst, src.y, 'dst');
      const node = buf(`${l}.node`, n * H);
      gatherSelf(rt, rec, n, H, K, dst.y, node);
      const effn = ffnForward(l, 'effn', layer.edgeFfn, dst.y, E);
      let nodeMid = node;
      let na: { xn: GPUBuffer; inv: GPUBuffer; q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; o: GPUBuffer; stats: GPUBuffer; u: GPUBuffer; y: GPUBuffer } | null = null;
      if (layer.node) {
        const a = layer.node;
        na = {
          xn: buf(`${l}.na.xn`, n * H), inv: buf(`${l}.na.inv`, n), q: buf(`${l}.na.q`, n * H), k: buf(`${l}.na.k`, n * H),
          v: buf(`${l}.na.v`, n * H), o: buf(`${l}.na.o`, n * H), stats: buf(`${l}.na.stats`, nodeAttentionGradSizes(nodeShape).stats),
          u: buf(`${l}.na.u`, n * H), y: buf(`${l}.na.y`, n * H),
        };
        rec.stage('node attention');
        rmsNormForward(n, H, node, a.norm, na.xn, na.inv);
        linearForward(rt, rec, { x: na.xn, rows: n, layer: a.q, y: na.q });
        linearForward(rt, rec, { x: na.xn, rows: n, layer: a.k, y: na.k });
        linearForward(rt, rec, { x: na.xn, rows: n, layer: a.v, y: na.v });
        const erope = omega && a.radialWeight ? { omega, radialWeight: a.radialWeight } : null;
        nodeAttentionForward(rt, rec, { shape: nodeShape, q: na.q, k: na.k, v: na.v, geometry, erope, o: na.o, stats: na.stats });
        linearForward(rt, rec, { x: na.o, rows: n, layer: a.out, y: na.u });
        scaleAdd(rt, rec, n * H, node, na.u, na.y, 1, a.resScale);
        nodeMid = na.y;
      }
      const nffn = ffnForward(l, 'nffn', layer.nodeFfn, nodeMid, n);
      const xout = buf(`${l}.x.out`, E * H);
      mergeSelf(rt, rec, E, H, K, effn.y, nffn.y, xout);
      x = xout;
      return { xin, src, dst, node, effn, na, nodeMid, nffn };
    });

    rec.stage('energy head');
    // ---- energy head
    const nodeFinal = buf('nodeFinal', n * H);
    gatherSelf(rt, rec, n, H, K, x, nodeFinal);
    const hXn = buf('head.xn', n * H), hInv = buf('head.inv', n), hPre = buf('head.pre', n * this.head.lin1.outDim), hH = buf('head.h', n * this.head.lin1.outDim);
    const ePerAtom = buf('head.e', n), eRaw = buf('energyRaw', 1);
    rmsNormForward(n, H, nodeFinal, this.head.norm, hXn, hInv);
    linearForward(rt, rec, { x: hXn, rows: n, layer: this.head.lin1, y: hH, gelu: true, pre: hPre });
    linearForward(rt, rec, { x: hH, rows: n, layer: this.head.lin2, y: ePerAtom });
    sumRows(rt, rec, n, ePerAtom, eRaw);

    rec.stage('backward: energy head');
    // ---- backward: ∂E_raw/∂(everything)
    const ones = rt.upload('model.ones', new Float32Array(n).fill(1));
    const dH = buf('head.dh', n * this.head.lin1.outDim), dXn = buf('head.dxn', n * H), dNodeFinal = buf('head.dnode', n * H);
    linearBackwardInput(rt, rec, { dy: ones, rows: n, layer: this.head.lin2, dx: dH });
    linearBackwardInput(rt, rec, { dy: dH, rows: n, layer: this.head.lin1, dx: dXn, gelu: true, pre: hPre });
    rmsNormBackward(n, H, nodeFinal, this.head.norm, hInv, dXn, dNodeFinal, null);
    const zerosE = rt.upload('model.zerosE', new Float32Array(E * H));
    let dx = buf('dx.head', E * H);
    mergeSelf(rt, rec, E, H, K, zerosE, dNodeFinal, dx);

    // accumulators, zeroed by a dispatch (not an upload) so that a frozen program replays correctly
    const gradBias = buf('gradBias', E), gradSh = buf('gradSh', E * f.shSize), eropeGeometry = buf('eropeGeometry', n * 12);
    fill(rt, rec, E, gradBias, 0);
    fill(rt, rec, E * f.shSize, gradSh, 0);
    fill(rt, rec, n * 12, eropeGeometry, 0);
    const tmp = (name: string, words: number) => buf(`bwd.${name}`, words);
    const ffnBwd = (fp: GpuFfn, c: ReturnType<typeof ffnForward>, xin: GPUBuffer, dy: GPUBuffer, rows: number, dxOut: GPUBuffer) => {
      const tag = rows === E ? 'edge' : 'node';
      const du = tmp(`ffn.du.${tag}`, rows * H), dh = tmp(`ffn.dh.${tag}`, rows * fp.lin1.outDim), dxn = tmp(`ffn.dxn.${tag}`, rows * H);
      scaleAdd(rt, rec, rows * H, dy, dy, du, fp.resScale, 0);
      linearBackwardInput(rt, rec, { dy: du, rows, layer: fp.lin2, dx: dh });
      linearBackwardInput(rt, rec, { dy: dh, rows, layer: fp.lin1, dx: dxn, gelu: true, pre: c.pre });
      rmsNormBackward(rows, H, xin, fp.norm, c.inv, dxn, dxOut, dy);
    };
    const attnBwd = (a: GpuAttention, c: ReturnType<typeof attnForward>, xin: GPUBuffer, dy: GPUBuffer, layout: 'src' | 'dst', dxOut: GPUBuffer) => {
      const du = tmp('attn.du', E * H), dO = tmp('attn.dO', E * H), dQkv = tmp('attn.dqkv', E * 3 * H), dxn = tmp('attn.dxn', E * H);
      scaleAdd(rt, rec, E * H, dy, dy, du, a.resScale, 0);
      linearBackwardInput(rt, rec, { dy: du, rows: E, layer: a.out, dx: dO });
      neighborhoodAttentionBackward(rt, rec, { ...nbhdBase, layout, qkv: c.qkv, dO, dQkv, gradBias, gradSh: lae ? gradSh : null });
      linearBackwardInput(rt, rec, { dy: dQkv, rows: E, layer: a.qkv, dx: dxn });
      rmsNormBackward(E, H, xin, a.norm, c.inv, dxn, dxOut, dy);
    };
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l], c = caches[l];
      // X_out = merge(node FFN output at slot 0, edge FFN output elsewhere)
      const dNodeOut = tmp('dNodeOut', n * H), dEdgeOut = tmp('dEdgeOut', E * H);
      gatherSelf(rt, rec, n, H, K, dx, dNodeOut);
      maskSelf(rt, rec, E, H, K, dx, dEdgeOut);
      const dNodeMid = tmp('dNodeMid', n * H);
      rec.stage('backward: node FFN');
      ffnBwd(layer.nodeFfn, c.nffn, c.nodeMid, dNodeOut, n, dNodeMid);
      let dNode = dNodeMid;
      if (layer.node && c.na) {
        const a = layer.node, na = c.na;
        rec.stage('backward: node attention');
        const du = tmp('na.du', n * H), dO = tmp('na.dO', n * H);
        scaleAdd(rt, rec, n * H, dNodeMid, dNodeMid, du, a.resScale, 0);
        linearBackwardInput(rt, rec, { dy: du, rows: n, layer: a.out, dx: dO });
        const sz = nodeAttentionGradSizes(nodeShape);
        const qg = tmp('na.qg', sz.queryGrads), kg = tmp('na.kg', sz.keyGrads);
        const erope = omega && a.radialWeight ? { omega, radialWeight: a.radialWeight } : null;
        nodeAttentionBackward(rt, rec, {
          shape: nodeShape, q: na.q, k: na.k, v: na.v, o: na.o, dO, stats: na.stats, geometry, erope,
          queryGrads: qg, keyGrads: kg, geometryGrad: eropeGeometry,
        });
        const dq = tmp('na.dq', n * H), dk = tmp('na.dk', n * H), dv = tmp('na.dv', n * H);
        copyCols(rt, rec, n, H, qg, H, 0, dq, H, 0);
        copyCols(rt, rec, n, H, kg, H, 0, dk, H, 0);
        copyCols(rt, rec, n, H, kg, H, n * H, dv, H, 0);
        const dxq = tmp('na.dxq', n * H), dxk = tmp('na.dxk', n * H), dxv = tmp('na.dxv', n * H), dxn = tmp('na.dxn', n * H);
        linearBackwardInput(rt, rec, { dy: dq, rows: n, layer: a.q, dx: dxq });
        linearBackwardInput(rt, rec, { dy: dk, rows: n, layer: a.k, dx: dxk });
        linearBackwardInput(rt, rec, { dy: dv, rows: n, layer: a.v, dx: dxv });
        scaleAdd(rt, rec, n * H, dxq, dxk, dxn, 1, 1);
        scaleAdd(rt, rec, n * H, dxn, dxv, dxq, 1, 1);
        dNode = tmp('dNode', n * H);
        rmsNormBackward(n, H, c.node, a.norm, na.inv, dxq, dNode, dNodeMid);
      }
      // edge FFN ran on every slot of X_dst; slot 0 also feeds the node path
      const dDst = tmp('dDst', E * H);
      rec.stage('backward: edge FFN + neighborhood attention');
      ffnBwd(layer.edgeFfn, c.effn, c.dst.y, dEdgeOut, E, dDst);
      addSelf(rt, rec, n, H, K, dNode, dDst);
      const dSrc = tmp('dSrc', E * H);
      attnBwd(layer.dst, c.dst, c.src.y, dDst, 'dst', dSrc);
      const dIn = buf(`dx.${l}`, E * H);
      attnBwd(layer.src, c.src, c.xin, dSrc, 'src', dIn);
      dx = dIn;
    }

    rec.stage('backward: input block');
    // ---- input block backward → ∂E/∂RBF, ∂E/∂SH (first (sh_lmax+1)² columns), ∂E/∂BOO
    const dFeatIn = tmp('dFeatIn', E * 2 * H);
    linearBackwardInput(rt, rec, { dy: dx, rows: E, layer: this.input.edgeFeatureLinear, dx: dFeatIn, gelu: true, pre: featPre });
    const dNode0 = tmp('dNode0', n * H), dEattr = tmp('dEattr', E * H);
    sumSlots(rt, rec, n, H, K, dFeatIn, 2 * H, 0, dNode0);
    copyCols(rt, rec, E, H, dFeatIn, 2 * H, H, dEattr, H, 0);
    const distanceParts = edgeInputDistanceParts(this.input.edgeAttrLinear);
    const gradDistance = tmp('gradDistance', E * distanceParts);
    edgeInputLinearBackward(rt, rec, {
      input: edgeInput, dy: dEattr, layer: this.input.edgeAttrLinear, gelu: true, pre: eattrPre, gradSh, distPart: gradDistance,
    });
    const dCatNorm = tmp('dCatNorm', n * 2 * H), dCat = tmp('dCat', n * 2 * H);
    linearBackwardInput(rt, rec, { dy: dNode0, rows: n, layer: this.input.nodeLinear, dx: dCatNorm, gelu: true, pre: nodePre });
    rmsNormBackward(n, 2 * H, cat, this.input.nodeNorm, catInv, dCatNorm, dCat, null);
    const dBdir = tmp('dBdir', n * H);
    copyCols(rt, rec, n, H, dCat, 2 * H, H, dBdir, H, 0);
    const gradBoo = tmp('gradBoo', n * nBoo);
    linearBackwardInput(rt, rec, { dy: dBdir, rows: n, layer: this.input.booLinear, dx: gradBoo, gelu: true, pre: booPre });

    rec.stage('backward: features + graph');
    // ---- features and graph backward → ∂E/∂positions, strain
    const slot = recordFeaturesBackward(rt, rec, g, f, { gradBias, gradRbf: gradDistance, gradIsDistance: true, distanceParts, gradSh, gradBoo });
    const geo = recordGraphBackward(rt, rec, g, { ...slot, extra: arch.use_node_attention && arch.use_erope ? eropeGeometry : undefined });
    return { energyRaw: eRaw, gradPositions: geo.gradPositions, strain: geo.strain, graph: g };
  }
}

function graphCell(system: GpuSystem) {
  const periodic = !!system.cell && system.pbc.some(Boolean);
  return { vectors: periodic ? system.cell : null, pbc: system.pbc };
}
