// kNN neighborhood attention (source or destination layout) forward and backward on the GPU.
import wgsl from '../../../shaders/attention/neighborhood.wgsl?raw';
import type { GpuRuntime, Recorder } from '../runtime';

/** A grouping of edges into rows, as in the CPU runtime (src/cpu/neighborhoodAttention.ts EdgeLayout). */
export interface EdgeRows {
  rowStart: ArrayLike<number>;
  /** Edge ids in row order; null = identity (rows are contiguous edge ranges). */
  edges: ArrayLike<number> | null;
}

export const MAX_HEAD_DIM = 64;

/** [row_start | slot_edge | slot_row] as the kernel reads it. */
export function packEdgeRows(layout: EdgeRows): Uint32Array {
  const rows = layout.rowStart.length - 1;
  const E = layout.rowStart[rows];
  const out = new Uint32Array(rows + 1 + 2 * E);
  for (let r = 0; r <= rows; r++) out[r] = layout.rowStart[r];
  for (let r = 0; r < rows; r++) {
    for (let p = layout.rowStart[r]; p < layout.rowStart[r + 1]; p++) {
      out[rows + 1 + p] = layout.edges ? layout.edges[p] : p;
      out[rows + 1 + E + p] = r;
    }
  }
  return out;
}

export interface NeighborhoodShape {
  /** Number of edges E (each in exactly one row of the layout). */
  slots: number;
  rows: number;
  heads: number;
  headDim: number;
}

function params(s: NeighborhoodShape) {
  if (s.headDim > MAX_HEAD_DIM) throw new Error(`neighborhood attention: head dim ${s.headDim} exceeds ${MAX_HEAD_DIM}`);
  return { slots: s.slots, rows: s.rows, heads: s.heads, head_dim: s.headDim, scale: 1 / Math.sqrt(s.headDim) };
}

/**
 * o = softmax(q·kᵀ/√d + key bias)·v within each row. `qkv` is E × 3H ([q|k|v] per edge);
 * `stats` (E × heads × 2 floats) receives each query's logsumexp for the backward pass.
 */
export function edgeRowAttentionForward(
  rt: GpuRuntime, rec: Recorder,
  a: { shape: NeighborhoodShape; qkv: GPUBuffer; keyBias: GPUBuffer; layout: GPUBuffer; o: GPUBuffer; stats: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'edge-row-attention', code: wgsl, entryPoint: 'forward' });
  rec.dispatch(k, { qkv: a.qkv, key_bias: a.keyBias, slot_layout: a.layout, o: a.o, stats: a.stats },
    params(a.shape), Math.ceil((a.shape.slots * a.shape.heads) / 64));
}

/**
 * Backward from dO: dq (E × H), dkv (E × 2H, [dk|dv] per edge), per-head key-bias gradients
 * (E × heads, scratch) and their sum per edge, keyBiasGrad (E).
 */
export function edgeRowAttentionBackward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    shape: NeighborhoodShape; qkv: GPUBuffer; keyBias: GPUBuffer; layout: GPUBuffer; o: GPUBuffer; stats: GPUBuffer;
    dO: GPUBuffer; dq: GPUBuffer; dkv: GPUBuffer; biasGradHeads: GPUBuffer; keyBiasGrad: GPUBuffer;
  },
): void {
  const p = params(a.shape);
  const n = Math.ceil((a.shape.slots * a.shape.heads) / 64);
  const common = { qkv: a.qkv, key_bias: a.keyBias, slot_layout: a.layout, stats: a.stats, d_o: a.dO };
  rec.dispatch(rt.kernel({ label: 'edge-row-attention', code: wgsl, entryPoint: 'backward_query' }),
    { ...common, o: a.o, grad: a.dq }, p, n);
  rec.dispatch(rt.kernel({ label: 'edge-row-attention', code: wgsl, entryPoint: 'backward_key' }),
    { ...common, grad: a.dkv, bias_grad: a.biasGradHeads }, p, n);
  rec.dispatch(rt.kernel({ label: 'edge-row-attention', code: wgsl, entryPoint: 'reduce_bias_grad' }),
    { bias_grad: a.biasGradHeads, o: a.keyBiasGrad }, p, Math.ceil(a.shape.slots / 64));
}
