// All-to-all node attention on the GPU (shaders/node_attention/): tiled forward with
// online softmax, recompute-based backward, optional ERoPE bias with its position gradient.
import commonWgsl from '../../../shaders/node_attention/common.wgsl?raw';
import keyTileWgsl from '../../../shaders/node_attention/key_tile.wgsl?raw';
import forwardWgsl from '../../../shaders/node_attention/forward.wgsl?raw';
import rowStatsWgsl from '../../../shaders/node_attention/row_stats.wgsl?raw';
import backwardQueryWgsl from '../../../shaders/node_attention/backward_query.wgsl?raw';
import backwardKeyWgsl from '../../../shaders/node_attention/backward_key.wgsl?raw';
import reduceWgsl from '../../../shaders/node_attention/reduce.wgsl?raw';
import type { Binding, GpuRuntime, Recorder } from '../runtime';
import { smoothPairMetric } from '../../cpu/eropeDistance';

const BLOCK = 32;
const MAX_HEAD_DIM = 64;
const MAX_RADIAL = 1024; // num_heads × num_freq packed in the uniform
const MAX_FREQ = 64;

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
   * (packImages with cells) 24 numbers per system from `metricOffset` for the smooth ERoPE distance.
   */
  aux: GPUBuffer;
  imagesOffset: number;
  metricOffset?: number;
  /** ERoPE uses the smooth periodic distance (erope_smooth_minimum_image) instead of the minimum image. */
  smooth?: boolean;
}

/** A system's cell for the smooth ERoPE distance: lattice vectors as rows (9 numbers, Å) and pbc; null: none. */
export type SystemCell = { vectors: ArrayLike<number>; pbc: readonly boolean[] } | null;

/**
 * Pack per-system image translations (each M×3, Å; a molecule has one zero image) and, with `cells`,
 * each system's metric for the smooth ERoPE distance (common.wgsl): cell rows, the columns of cell⁻¹,
 * pbc flags and squared row lengths. A system without a periodic cell gets the unit cell, no pbc,
 * which makes r̃ the plain distance.
 */
export function packImages(
  imagesPerSystem: ArrayLike<number>[], cells?: SystemCell[],
): { aux: Float32Array; imagesOffset: number; metricOffset: number } {
  const S = imagesPerSystem.length;
  const total = imagesPerSystem.reduce((s, t) => s + t.length / 3, 0);
  const metricOffset = 2 * S + 3 * total;
  const aux = new Float32Array(metricOffset + (cells ? 24 * S : 0));
  let first = 0;
  imagesPerSystem.forEach((t, s) => {
    aux[2 * s] = first;
    aux[2 * s + 1] = t.length / 3;
    aux.set(Array.from(t), 2 * S + 3 * first);
    first += t.length / 3;
  });
  cells?.forEach((c, s) => {
    const periodic = c !== null && c.pbc.some(Boolean);
    const v = periodic ? Array.from(c!.vectors) : [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const inv = smoothPairMetric({ vectors: Float64Array.from(v), pbc: [true, true, true] }).inverse;
    const o = metricOffset + 24 * s;
    aux.set(v, o);
    for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) aux[o + 9 + 3 * a + k] = inv[3 * k + a];
    for (let a = 0; a < 3; a++) {
      aux[o + 18 + a] = periodic && c!.pbc[a] ? 1 : 0;
      aux[o + 21 + a] = v[3 * a] ** 2 + v[3 * a + 1] ** 2 + v[3 * a + 2] ** 2;
    }
  });
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

function checkShape(s: NodeAttentionShape, erope: EropeWeights | null): void {
  if (s.headDim > MAX_HEAD_DIM) throw new RangeError(`node attention supports head dimensions up to ${MAX_HEAD_DIM}, got ${s.headDim}`);
  if (erope) {
    if (erope.omega.length > MAX_FREQ) throw new RangeError(`ERoPE supports up to ${MAX_FREQ} frequencies, got ${erope.omega.length}`);
    if (erope.radialWeight.length > MAX_RADIAL) throw new RangeError(`ERoPE weights exceed ${MAX_RADIAL} values (heads × frequencies)`);
    if (erope.radialWeight.length !== s.numHeads * erope.omega.length) throw new RangeError('ERoPE weights must be num_heads × num_freq');
  }
}

function params(s: NodeAttentionShape, g: NodeAttentionGeometry, erope: EropeWeights | null) {
  const radial = new Array<number>(MAX_RADIAL).fill(0);
  const omega = new Array<number>(MAX_FREQ).fill(0);
  if (erope) {
    for (let i = 0; i < erope.radialWeight.length; i++) radial[i] = erope.radialWeight[i];
    for (let i = 0; i < erope.omega.length; i++) omega[i] = erope.omega[i];
  }
  return {
    n: s.n, num_heads: s.numHeads, hidden: s.numHeads * s.headDim, num_freq: erope ? erope.omega.length : 0,
    images_offset: g.imagesOffset, metric_offset: g.metricOffset ?? 0, q_tiles: Math.ceil(s.n / BLOCK), scale: 1 / Math.sqrt(s.headDim),
    radial_weight: radial, omega,
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
  if (smooth && g.metricOffset === undefined) throw new Error('the smooth ERoPE distance needs the cells packed by packImages');
  return rt.kernel({
    label: `node_attention.${entryPoint}`, code: SOURCES[entryPoint], entryPoint,
    constants: { D: s.headDim, EROPE: erope ? 1 : 0, SMOOTH_PBC: smooth ? 1 : 0 },
  });
}

/** o = softmax(q·kᵀ/√d + ERoPE bias, same system only)·v; stats receives the row log-sum-exp. */
export function nodeAttentionForward(
  rt: GpuRuntime, rec: Recorder,
  a: { shape: NodeAttentionShape; q: Binding; k: Binding; v: Binding; geometry: NodeAttentionGeometry; erope: EropeWeights | null; o: Binding; stats: GPUBuffer },
): void {
  checkShape(a.shape, a.erope);
  const k = kernel(rt, 'forward', a.shape, !!a.erope, a.geometry);
  rec.dispatch(k, { q: a.q, k: a.k, v: a.v, atoms: a.geometry.atoms, aux: a.geometry.aux, out: a.o, stats: a.stats },
    params(a.shape, a.geometry, a.erope), Math.ceil(a.shape.n / BLOCK) * a.shape.numHeads);
}

/** Words needed by the backward outputs. */
export function nodeAttentionGradSizes(s: NodeAttentionShape): { queryGrads: number; keyGrads: number; stats: number } {
  const nH = s.n * s.numHeads * s.headDim;
  return { queryGrads: nH + s.numHeads * s.n * 12, keyGrads: 2 * nH + s.numHeads * s.n * 3, stats: 2 * s.numHeads * s.n };
}

/**
 * Backward. Inputs: q, k, v, the forward output o and its stats, dO. Outputs: queryGrads = [dq | partials],
 * keyGrads = [dk | dv | partials] (offsets from nodeAttentionGradSizes: dq at 0, dk at 0, dv at N·H),
 * and ADDS to geometryGrad (N×12: ∂E/∂position xyz, then the per-atom virial row-major) the ERoPE share.
 */
export function nodeAttentionBackward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    shape: NodeAttentionShape; q: Binding; k: Binding; v: Binding; o: Binding; dO: Binding; stats: GPUBuffer;
    geometry: NodeAttentionGeometry; erope: EropeWeights | null;
    queryGrads: GPUBuffer; keyGrads: GPUBuffer; geometryGrad: GPUBuffer;
  },
): void {
  const s = a.shape;
  checkShape(s, a.erope);
  const p = params(s, a.geometry, a.erope);
  rec.dispatch(kernel(rt, 'row_stats', s, !!a.erope, a.geometry), { o_in: a.o, out: a.dO, stats: a.stats }, p, Math.ceil((s.n * s.numHeads) / 64));
  const common = { q: a.q, k: a.k, v: a.v, atoms: a.geometry.atoms, aux: a.geometry.aux, o_in: a.dO, stats: a.stats };
  const tiles = Math.ceil(s.n / BLOCK) * s.numHeads;
  rec.dispatch(kernel(rt, 'backward_query', s, !!a.erope, a.geometry), { ...common, out: a.queryGrads }, p, tiles);
  rec.dispatch(kernel(rt, 'backward_key', s, !!a.erope, a.geometry), { ...common, out: a.keyGrads }, p, tiles);
  const nH = s.n * s.numHeads * s.headDim;
  const reduce = rt.kernel({ label: 'node_attention_reduce', code: reduceWgsl, entryPoint: 'main' });
  rec.dispatch(reduce, { query_part: a.queryGrads, key_part: a.keyGrads, geometry: a.geometryGrad },
    { n: s.n, num_heads: s.numHeads, query_offset: nH, key_offset: 2 * nH }, Math.ceil(s.n / 64));
}
