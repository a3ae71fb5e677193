// Neighborhood attention on the GPU (shaders/neighborhood_attention/): per-row attention over the
// K edge slots in the source or destination layout, key bias from the envelope, optional LAE.
import commonWgsl from '../../../shaders/neighborhood_attention/common.wgsl?raw';
import forwardWgsl from '../../../shaders/neighborhood_attention/forward.wgsl?raw';
import backwardWgsl from '../../../shaders/neighborhood_attention/backward.wgsl?raw';
import { UNUSED, type Binding, type GpuRuntime, type Operand, type Recorder } from '../runtime';

const MAX_SLOTS = 64;
const MAX_HEAD_DIM = 64;

export interface NeighborhoodAttentionArgs {
  /** Rows (atoms) and slot budget K per row. */
  rows: number;
  slots: number;
  numHeads: number;
  headDim: number;
  /** 'dst': the slots of row b are rev(b·K + r) (incoming edges of b). */
  layout: 'src' | 'dst';
  /** q, k and v, E×H each (three bindings: one E×3H array can be more than one binding may hold). */
  q: Binding;
  k: Binding;
  v: Binding;
  /** The graph's slot key, (N·K)×(i32 slot read in the destination layout, f32 key bias, −inf on empty slots). */
  slotKey: Operand;
  /** LAE: per-slot SH table (E×shSize, degrees ≥ 4) and the degree of each head channel. */
  lae: { sh: Operand; shSize: number; channelDegree: ArrayLike<number> } | null;
}

function check(a: NeighborhoodAttentionArgs): void {
  if (a.slots > MAX_SLOTS) throw new RangeError(`neighborhood attention supports up to ${MAX_SLOTS} slots per atom, the graph has ${a.slots}`);
  if (a.headDim > MAX_HEAD_DIM) throw new RangeError(`neighborhood attention supports head dimensions up to ${MAX_HEAD_DIM}, got ${a.headDim}`);
  if (a.lae && a.lae.channelDegree.length !== a.headDim) throw new RangeError('LAE needs one degree per head channel');
  if (a.lae && a.lae.shSize < 25) throw new RangeError('LAE needs SH of degrees 0..4 per slot');
}

function params(a: NeighborhoodAttentionArgs) {
  const degrees = new Array<number>(64).fill(0);
  if (a.lae) for (let c = 0; c < a.headDim; c++) degrees[c] = a.lae.channelDegree[c];
  return {
    rows: a.rows, slots: a.slots, num_heads: a.numHeads, hidden: a.numHeads * a.headDim,
    sh_size: a.lae ? a.lae.shSize : 0, dst_layout: a.layout === 'dst' ? 1 : 0, scale: 1 / Math.sqrt(a.headDim),
    channel_degree: degrees,
  };
}

function kernel(rt: GpuRuntime, which: 'forward' | 'backward', a: NeighborhoodAttentionArgs) {
  return rt.kernel({
    label: `neighborhood_attention.${which}`,
    code: `${commonWgsl}\n${which === 'forward' ? forwardWgsl : backwardWgsl}`,
    entryPoint: which,
    constants: { D: a.headDim, LAE: a.lae ? 1 : 0 },
  });
}

/** o (E×H) of every element; zero on empty slots. */
export function neighborhoodAttentionForward(rt: GpuRuntime, rec: Recorder, a: NeighborhoodAttentionArgs & { o: Binding }): void {
  check(a);
  rec.dispatch(kernel(rt, 'forward', a), {
    q: a.q, k: a.k, v: a.v, slot_key: a.slotKey, sh: a.lae?.sh ?? UNUSED, o: a.o,
  }, params(a), a.rows);
}

/**
 * Backward, in place: OVERWRITES q, k and v with dq, dk and dv, and ADDS ∂E/∂(key bias) into
 * gradBias (E) and, with LAE, ∂E/∂Y into gradSh (E×shSize), so the source and destination attentions of
 * every layer can share one accumulator.
 */
export function neighborhoodAttentionBackward(
  rt: GpuRuntime, rec: Recorder,
  a: NeighborhoodAttentionArgs & { dO: Binding; gradBias: Operand; gradSh: Operand | null },
): void {
  check(a);
  rec.dispatch(kernel(rt, 'backward', a), {
    q: a.q, k: a.k, v: a.v, slot_key: a.slotKey, sh: a.lae?.sh ?? UNUSED,
    d_o: a.dO, grad_bias: a.gradBias, grad_sh: a.gradSh ?? UNUSED,
  }, params(a), a.rows);
}
