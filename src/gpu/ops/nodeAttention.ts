// All-to-all node attention on the GPU (shaders/node_attention/): tiled forward with
// online softmax, recompute-based backward, optional ERoPE bias with its position gradient.
// q, k, v come as one fused N×3H q‖k‖v buffer (one projection, one backward linear, no copies) or
// as three N×H buffers; heads run in groups that share each pair's ERoPE distance and basis.
import commonWgsl from '../../../shaders/node_attention/common.wgsl?raw';
import keyTileWgsl from '../../../shaders/node_attention/key_tile.wgsl?raw';
import forwardWgsl from '../../../shaders/node_attention/forward.wgsl?raw';
import rowStatsWgsl from '../../../shaders/node_attention/row_stats.wgsl?raw';
import backwardQueryWgsl from '../../../shaders/node_attention/backward_query.wgsl?raw';
import backwardKeyWgsl from '../../../shaders/node_attention/backward_key.wgsl?raw';
import reduceWgsl from '../../../shaders/node_attention/reduce.wgsl?raw';
import { UNUSED, UnusedBinding, type Binding, type GpuRuntime, type Recorder } from '../runtime';
import { minimumImageMetric } from '../../geometry/periodicImages';
import { eropeBiasTable, type BiasTable } from './eropeBiasTable';

const BLOCK = 32;
const MAX_GROUP_COLUMNS = 64; // MAXD in common.wgsl: heads per group × head dimension
const MAX_GROUP_HEADS = 8; // MAXG
const MAX_RADIAL = 1024; // num_heads × num_freq packed in the uniform
const MAX_FREQ = 64;
const METRIC_WORDS = 28; // METRIC in common.wgsl
const F32_MAX = 3.4e38;

export interface NodeAttentionShape {
  /** Atoms over all systems in the batch. */
  n: number;
  numHeads: number;
  headDim: number;
}

/** ERoPE of one layer: ω (Å⁻¹, float32 values) and W (num_heads × num_freq). */
export interface EropeWeights { omega: ArrayLike<number>; radialWeight: ArrayLike<number> }

export interface NodeAttentionGeometry {
  /** N × vec4: x, y, z (Å, wrapped into the cell) and the atom's system index. */
  atoms: GPUBuffer;
  /**
   * Per system (first image, image count), then image translations (x, y, z) from `imagesOffset`, then
   * per system from `metricOffset` the cell data of the minimum-image shortcut and the smooth distance.
   */
  aux: GPUBuffer;
  imagesOffset: number;
  metricOffset?: number;
  /** ERoPE uses the smooth periodic distance (erope_smooth_minimum_image) instead of the minimum image. */
  smooth?: boolean;
}

/** A system's cell: lattice vectors as rows (9 numbers, Å) and pbc; null: none. */
export type SystemCell = { vectors: ArrayLike<number>; pbc: readonly boolean[] } | null;

/**
 * Pack per-system image translations (each M×3, Å; a molecule has one zero image) and each system's cell
 * data (common.wgsl, METRIC words): cell rows, the columns of cell⁻¹, pbc flags, squared row lengths and
 * the |d'|² below which rounding in reduced coordinates gives the nearest image (geometry/periodicImages.ts).
 * Without `cells` only a system whose single image is zero takes that shortcut; the rest loop over
 * their images. A system without a periodic cell gets the unit cell, no pbc (r̃ = the plain distance).
 */
export function packImages(
  imagesPerSystem: ArrayLike<number>[], cells?: SystemCell[],
): { aux: Float32Array; imagesOffset: number; metricOffset: number } {
  const S = imagesPerSystem.length;
  const total = imagesPerSystem.reduce((s, t) => s + t.length / 3, 0);
  const metricOffset = 2 * S + 3 * total;
  const aux = new Float32Array(metricOffset + METRIC_WORDS * S);
  let first = 0;
  imagesPerSystem.forEach((t, s) => {
    aux[2 * s] = first;
    aux[2 * s + 1] = t.length / 3;
    aux.set(Array.from(t), 2 * S + 3 * first);
    first += t.length / 3;
  });
  for (let s = 0; s < S; s++) {
    const c = cells ? cells[s] : null;
    const periodic = c !== null && c.pbc.some(Boolean);
    const m = minimumImageMetric(periodic ? { vectors: Float64Array.from(c!.vectors), pbc: [...c!.pbc] as [boolean, boolean, boolean] } : null);
    const v = m.cell, inv = m.inverse;
    const o = metricOffset + METRIC_WORDS * s;
    aux.set(v, o);
    for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) aux[o + 9 + 3 * a + k] = inv[3 * k + a];
    for (let a = 0; a < 3; a++) {
      aux[o + 18 + a] = m.pbc[a] ? 1 : 0;
      aux[o + 21 + a] = v[3 * a] ** 2 + v[3 * a + 1] ** 2 + v[3 * a + 2] ** 2;
    }
    const t = imagesPerSystem[s];
    const onlyZeroImage = t.length === 3 && t[0] === 0 && t[1] === 0 && t[2] === 0;
    // no cell given: the shortcut is only known to be right for a single zero image
    const accept = cells ? m.acceptRadius2 : onlyZeroImage ? Infinity : 0;
    aux[o + 24] = Math.min(accept, F32_MAX);
  }
  return { aux, imagesOffset: 2 * S, metricOffset };
}

/** Pack positions (N×3) and system index per atom into vec4s. */
export function packAtoms(positions: ArrayLike<number>, systemOfAtom: ArrayLike<number>): Float32Array {
  const n = systemOfAtom.length;
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    out[4 * i] = positions[3 * i]; out[4 * i + 1] = positions[3 * i + 1]; out[4 * i + 2] = positions[3 * i + 2];
    out[4 * i + 3] = systemOfAtom[i];
  }
  return out;
}

/** Heads per workgroup: the largest divisor of numHeads whose columns fit the kernel's group arrays. */
export function headsPerGroup(s: NodeAttentionShape): number {
  let g = 1;
  for (let c = 1; c <= Math.min(s.numHeads, MAX_GROUP_HEADS); c++)
    if (s.numHeads % c === 0 && c * s.headDim <= MAX_GROUP_COLUMNS) g = c;
  return g;
}

function checkShape(s: NodeAttentionShape, erope: EropeWeights | null): void {
  if (s.headDim > MAX_GROUP_COLUMNS) throw new RangeError(`node attention supports head dimensions up to ${MAX_GROUP_COLUMNS}, got ${s.headDim}`);
  if (erope) {
    if (erope.omega.length > MAX_FREQ) throw new RangeError(`ERoPE supports up to ${MAX_FREQ} frequencies, got ${erope.omega.length}`);
    if (erope.radialWeight.length > MAX_RADIAL) throw new RangeError(`ERoPE weights exceed ${MAX_RADIAL} values (heads × frequencies)`);
    if (erope.radialWeight.length !== s.numHeads * erope.omega.length) throw new RangeError('ERoPE weights must be num_heads × num_freq');
  }
}

/** q, k, v as one fused N×3H q‖k‖v buffer, or as three N×H buffers. */
export type Projections = { qkv: Binding } | { q: Binding; k: Binding; v: Binding };

function projectionBindings(s: NodeAttentionShape, p: Projections) {
  const H = s.numHeads * s.headDim;
  if ('qkv' in p) return { bind: { q: p.qkv, k: p.qkv, v: p.qkv }, layout: { in_stride: 3 * H, q_offset: 0, k_offset: H, v_offset: 2 * H } };
  return { bind: { q: p.q, k: p.k, v: p.v }, layout: { in_stride: H, q_offset: 0, k_offset: 0, v_offset: 0 } };
}

// One bias table per ERoPE weight array (a layer's), built on first use (0.2-0.6 s of float64 work) and
// uploaded once per runtime.
const builtTables = new WeakMap<object, BiasTable>();
const biasTables = new WeakMap<GpuRuntime, WeakMap<object, { buffer: GPUBuffer | typeof UNUSED; knots: number; step: number; poolName?: string }>>();
let biasTableSeq = 0;

function biasTable(rt: GpuRuntime, s: NodeAttentionShape, erope: EropeWeights) {
  let perRuntime = biasTables.get(rt);
  if (!perRuntime) biasTables.set(rt, (perRuntime = new WeakMap()));
  let t = perRuntime.get(erope.radialWeight);
  if (!t || (!(t.buffer instanceof UnusedBinding) && t.buffer.size > rt.maxBinding)) {   // (a binding limit lowered since: a shorter table)
    let table = builtTables.get(erope.radialWeight);
    if (!table || table.numHeads !== s.numHeads) {
      table = eropeBiasTable(erope.omega, erope.radialWeight, s.numHeads);
      builtTables.set(erope.radialWeight, table);
    }
    // an adapter whose binding limit is below the table gets its first intervals (the rest computed per pair)
    const intervals = Math.min(table.knots - 1, Math.floor(rt.maxBinding / (16 * s.numHeads)));
    if (t?.poolName) rt.release(t.poolName);   // the table it replaces
    const poolName = `erope_bias_table.${biasTableSeq++}`;
    t = intervals < 1
      ? { buffer: UNUSED, knots: 0, step: table.step }
      : { buffer: rt.upload(poolName, table.values.subarray(0, 4 * intervals * s.numHeads)), knots: intervals + 1, step: table.step, poolName };
    perRuntime.set(erope.radialWeight, t);
  }
  return t;
}

/** The ERoPE bias table binding and its uniform fields (a placeholder and no knots without ERoPE). */
function biasTableBinding(rt: GpuRuntime, s: NodeAttentionShape, erope: EropeWeights | null) {
  if (!erope) return { buffer: UNUSED, fields: { table_knots: 0, table_step: 1 } };
  const t = biasTable(rt, s, erope);
  return { buffer: t.buffer, fields: { table_knots: t.knots, table_step: t.step } };
}

function params(s: NodeAttentionShape, g: NodeAttentionGeometry, erope: EropeWeights | null, layout: Record<string, number>) {
  const radial = new Array<number>(MAX_RADIAL).fill(0);
  const omega = new Array<number>(MAX_FREQ).fill(0);
  if (erope) {
    for (let i = 0; i < erope.radialWeight.length; i++) radial[i] = erope.radialWeight[i];
    for (let i = 0; i < erope.omega.length; i++) omega[i] = erope.omega[i];
  }
  if (g.metricOffset === undefined) throw new Error('node attention needs the per-system cell data packed by packImages');
  return {
    n: s.n, num_heads: s.numHeads, num_freq: erope ? erope.omega.length : 0,
    images_offset: g.imagesOffset, metric_offset: g.metricOffset, q_tiles: Math.ceil(s.n / BLOCK),
    hidden: s.numHeads * s.headDim, grad_stride: 0, grad_offset_a: 0, grad_offset_b: 0, partials_offset: 0,
    ...layout, scale: 1 / Math.sqrt(s.headDim), radial_weight: radial, omega,
  };
}

// One module per entry point (see common.wgsl).
const SOURCES: Record<string, string> = {
  forward: `${commonWgsl}\n${keyTileWgsl}\n${forwardWgsl}`,
  row_stats: `${commonWgsl}\n${rowStatsWgsl}`,
  backward_query: `${commonWgsl}\n${keyTileWgsl}\n${backwardQueryWgsl}`,
  backward_key: `${commonWgsl}\n${backwardKeyWgsl}`,
};

function kernel(rt: GpuRuntime, entryPoint: keyof typeof SOURCES, s: NodeAttentionShape, erope: boolean, g: NodeAttentionGeometry) {
  const smooth = erope && !!g.smooth;
  return rt.kernel({
    label: `node_attention.${entryPoint}`, code: SOURCES[entryPoint], entryPoint,
    constants: { D: s.headDim, HG: headsPerGroup(s), EROPE: erope ? 1 : 0, SMOOTH_PBC: smooth ? 1 : 0 },
  });
}

/** Workgroups of the tiled kernels: (row tile, head group). */
function tiles(s: NodeAttentionShape): number {
  return Math.ceil(s.n / BLOCK) * (s.numHeads / headsPerGroup(s));
}

/** o = softmax(q·kᵀ/√d + ERoPE bias, same system only)·v; stats receives the row log-sum-exp. */
export function nodeAttentionForward(
  rt: GpuRuntime, rec: Recorder,
  a: { shape: NodeAttentionShape; geometry: NodeAttentionGeometry; erope: EropeWeights | null; o: Binding; stats: GPUBuffer } & Projections,
): void {
  checkShape(a.shape, a.erope);
  const p = projectionBindings(a.shape, a);
  const k = kernel(rt, 'forward', a.shape, !!a.erope, a.geometry);
  const table = biasTableBinding(rt, a.shape, a.erope);
  rec.dispatch(k, { ...p.bind, atoms: a.geometry.atoms, aux: a.geometry.aux, bias_table: table.buffer, o: a.o, stats: a.stats },
    { ...params(a.shape, a.geometry, a.erope, p.layout), ...table.fields }, tiles(a.shape));
}

/**
 * Words needed by the backward outputs: separate projections write queryGrads = [dq | partials] and
 * keyGrads = [dk | dv | partials]; fused ones write dQkv = [N×3H dq‖dk‖dv | query partials | key partials].
 */
export function nodeAttentionGradSizes(s: NodeAttentionShape): { queryGrads: number; keyGrads: number; stats: number; dQkv: number } {
  const nH = s.n * s.numHeads * s.headDim;
  const groups = s.numHeads / headsPerGroup(s);
  return {
    queryGrads: nH + groups * s.n * 12, keyGrads: 2 * nH + groups * s.n * 3, stats: 2 * s.numHeads * s.n,
    dQkv: 3 * nH + groups * s.n * 15,
  };
}

/** Where backward_query and backward_key write (word offsets into their `grads` binding). */
type GradTargets = {
  query: { grads: Binding; layout: Record<string, number> };
  key: { grads: Binding; layout: Record<string, number> };
  partials: { query: Binding; key: Binding; queryOffset: number; keyOffset: number };
};

function gradTargets(
  s: NodeAttentionShape,
  a: { queryGrads: GPUBuffer; keyGrads: GPUBuffer } | { dQkv: GPUBuffer },
): GradTargets {
  const H = s.numHeads * s.headDim, nH = s.n * H;
  if ('dQkv' in a) {
    const qOff = 3 * nH, kOff = 3 * nH + (s.numHeads / headsPerGroup(s)) * s.n * 12;
    return {
      query: { grads: a.dQkv, layout: { grad_stride: 3 * H, grad_offset_a: 0, partials_offset: qOff } },
      key: { grads: a.dQkv, layout: { grad_stride: 3 * H, grad_offset_a: H, grad_offset_b: 2 * H, partials_offset: kOff } },
      partials: { query: a.dQkv, key: a.dQkv, queryOffset: qOff, keyOffset: kOff },
    };
  }
  return {
    query: { grads: a.queryGrads, layout: { grad_stride: H, grad_offset_a: 0, partials_offset: nH } },
    key: { grads: a.keyGrads, layout: { grad_stride: H, grad_offset_a: 0, grad_offset_b: nH, partials_offset: 2 * nH } },
    partials: { query: a.queryGrads, key: a.keyGrads, queryOffset: nH, keyOffset: 2 * nH },
  };
}

/**
 * Backward. Inputs: q, k, v (fused or not), the forward output o and its stats, dO. Outputs, with fused
 * projections: dQkv (its first N×3H words are dq‖dk‖dv, the input of the q‖k‖v linear's backward);
 * with separate ones: queryGrads = [dq | partials], keyGrads = [dk | dv | partials] (dq at 0, dk at 0,
 * dv at N·H). ADDS to geometryGrad (N×12: ∂E/∂position xyz, then the per-atom virial row-major) the ERoPE share.
 */
export function nodeAttentionBackward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    shape: NodeAttentionShape; o: Binding; dO: Binding; stats: GPUBuffer;
    geometry: NodeAttentionGeometry; erope: EropeWeights | null; geometryGrad: GPUBuffer;
  } & (({ q: Binding; k: Binding; v: Binding } & { queryGrads: GPUBuffer; keyGrads: GPUBuffer }) | ({ qkv: Binding } & { dQkv: GPUBuffer })),
): void {
  const s = a.shape;
  checkShape(s, a.erope);
  const p = projectionBindings(s, a);
  const t = gradTargets(s, a);
  const table = biasTableBinding(rt, s, a.erope);
  const base = { ...params(s, a.geometry, a.erope, p.layout), ...table.fields };
  rec.dispatch(kernel(rt, 'row_stats', s, !!a.erope, a.geometry), { o: a.o, d_o: a.dO, stats: a.stats }, base, Math.ceil((s.n * s.numHeads) / 64));
  const common = { ...p.bind, atoms: a.geometry.atoms, aux: a.geometry.aux, bias_table: table.buffer, d_o: a.dO, stats: a.stats };
  rec.dispatch(kernel(rt, 'backward_query', s, !!a.erope, a.geometry), { ...common, grads: t.query.grads }, { ...base, ...t.query.layout }, tiles(s));
  rec.dispatch(kernel(rt, 'backward_key', s, !!a.erope, a.geometry), { ...common, grads: t.key.grads }, { ...base, ...t.key.layout }, tiles(s));
  const reduce = rt.kernel({ label: 'node_attention_reduce', code: reduceWgsl, entryPoint: 'main' });
  rec.dispatch(reduce, { query_part: t.partials.query, key_part: t.partials.key, geometry: a.geometryGrad },
    { n: s.n, num_groups: s.numHeads / headsPerGroup(s), query_offset: t.partials.queryOffset, key_offset: t.partials.keyOffset }, Math.ceil(s.n / 64));
}
