// Row glue of the model (shaders/model/rows.wgsl) and the energy sum (shaders/model/reduce.wgsl).
import rowsWgsl from '../../../shaders/model/rows.wgsl?raw';
import reduceWgsl from '../../../shaders/model/reduce.wgsl?raw';
import { UNUSED, type Binding, type GpuRuntime, type Operand, type Recorder } from '../runtime';

const WG = 64;

type RowsEntry =
  | 'scale_add' | 'fill' | 'zero3' | 'merge_self' | 'add_self' | 'split_self' | 'place_self' | 'embed' | 'add_vec';

interface RowsArgs {
  rows: number;
  cols: number;
  a: Operand | typeof UNUSED;
  b?: Operand;
  out: Operand;
  index?: Operand;
  inStride?: number;
  outStride?: number;
  inOff?: number;
  outOff?: number;
  slots?: number;
  alpha?: number;
  beta?: number;
  out2?: Operand;
  out3?: Operand;
  n2?: number;
  n3?: number;
  /** Output elements (one invocation each) when not rows·cols. */
  threads?: number;
}

function rows(rt: GpuRuntime, rec: Recorder, entry: RowsEntry, a: RowsArgs): void {
  const k = rt.kernel({ label: `rows.${entry}`, code: rowsWgsl, entryPoint: entry });
  const bindings: Record<string, Binding> = {
    a: a.a, b: a.b ?? UNUSED, out: a.out, index: a.index ?? UNUSED,
    out2: a.out2 ?? UNUSED, out3: a.out3 ?? UNUSED,
  };
  rec.dispatch(k, bindings, {
    rows: a.rows, cols: a.cols, in_stride: a.inStride ?? a.cols, out_stride: a.outStride ?? a.cols,
    in_off: a.inOff ?? 0, out_off: a.outOff ?? 0, slots: a.slots ?? 1, alpha: a.alpha ?? 1, beta: a.beta ?? 1, n2: a.n2 ?? 0, n3: a.n3 ?? 0,
  }, Math.ceil((a.threads ?? a.rows * a.cols) / WG));
}

/** out = alpha·a + beta·b, elementwise over n values. */
export const scaleAdd = (rt: GpuRuntime, rec: Recorder, n: number, a: Operand, b: Operand, out: Operand, alpha: number, beta: number) =>
  rows(rt, rec, 'scale_add', { rows: n, cols: 1, a, b, out, alpha, beta });

/** out[i] = value for i < n (an accumulator's zero inside the recording, so a replayed program starts clean). */
export const fill = (rt: GpuRuntime, rec: Recorder, n: number, out: Operand, value: number) =>
  rows(rt, rec, 'fill', { rows: n, cols: 1, a: UNUSED, out, alpha: value });

/** Three accumulators zeroed in one pass (n1, n2, n3 values). */
export const zero3 = (rt: GpuRuntime, rec: Recorder, out: [Operand, number], out2: [Operand, number], out3: [Operand, number]) =>
  rows(rt, rec, 'zero3', {
    rows: out[1], cols: 1, a: UNUSED, out: out[0], out2: out2[0], n2: out2[1], out3: out3[0], n3: out3[1],
    threads: Math.max(out[1], out2[1], out3[1]),
  });

/** out[e] = slot 0 ? node[e / K] : edge[e]. */
export const mergeSelf = (rt: GpuRuntime, rec: Recorder, E: number, H: number, K: number, edge: Operand, node: Operand, out: Operand) =>
  rows(rt, rec, 'merge_self', { rows: E, cols: H, a: edge, b: node, out, slots: K });

/** x[a·K] += node[a]. */
export const addSelf = (rt: GpuRuntime, rec: Recorder, n: number, H: number, K: number, node: Operand, x: Operand) =>
  rows(rt, rec, 'add_self', { rows: n, cols: H, a: node, b: node, out: x, slots: K });

/** edge[e] = slot 0 ? 0 : x[e] and node[a] = x[a·K] (one pass). */
export const splitSelf = (rt: GpuRuntime, rec: Recorder, E: number, H: number, K: number, x: Operand, edge: Operand, node: Operand) =>
  rows(rt, rec, 'split_self', { rows: E, cols: H, a: x, out: edge, out2: node, slots: K });

/** out[e] = slot 0 ? node[e / K] : 0. */
export const placeSelf = (rt: GpuRuntime, rec: Recorder, E: number, H: number, K: number, node: Operand, out: Operand) =>
  rows(rt, rec, 'place_self', { rows: E, cols: H, a: node, b: node, out, slots: K });

/** out[r, outOff + c] = table[index[r], c]. */
export const embed = (rt: GpuRuntime, rec: Recorder, r: number, cols: number, table: Operand, index: Operand, out: Operand, outStride: number, outOff: number) =>
  rows(rt, rec, 'embed', { rows: r, cols, a: table, index, out, outStride, outOff });

/** out[r, c] += v[c]. */
export const addVector = (rt: GpuRuntime, rec: Recorder, r: number, cols: number, v: Operand, out: Operand) =>
  rows(rt, rec, 'add_vec', { rows: r, cols, a: v, out });

/** out[0] = Σ_i (a[i, :]·w + b), i < n (a: n × cols; b: one value or none). */
export function sumRowsDot(rt: GpuRuntime, rec: Recorder, n: number, cols: number, a: Operand, w: Operand, b: Operand | null, out: Operand): void {
  const k = rt.kernel({ label: 'reduce.sum_rows_dot', code: reduceWgsl, entryPoint: 'sum_rows_dot' });
  rec.dispatch(k, { a, w, b: b ?? UNUSED, out }, { n, cols, has_bias: b ? 1 : 0 }, 1);
}
