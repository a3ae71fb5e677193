// What every block of the GPU model records into: the runtime, the recording and its workspace, and the
// sizes of the padded slot layout (N atoms × K slots; slot 0 of each row is the self-loop = node state).
// Weights are uploaded once per model (uploadWeights); activations are workspace tensors of the recording.
// Every RMSNorm of the model feeds one linear layer: its weight is folded into that layer's W at upload and
// the norm runs inside the linear's pass (normLinearForward); the backward is the unit-weight RMSNorm's.
import type { AttentionParams, FfnParams, HeadParams, LinearParams } from '../../model/params';
import type { GpuRuntime, Operand, Recorder } from '../runtime';
import type { Tensor, TensorSlice, Workspace } from '../workspace';
import { DeviceLimitError } from '../errors';
import { foldNormWeight, fusedNormMaxDim, linearBackwardInput, linearBackwardInputParts, linearForward, type LinearLayer } from '../ops/linear';
import { rmsNormBackward } from '../ops/elementwise';

export interface BlockContext {
  rt: GpuRuntime;
  rec: Recorder;
  ws: Workspace;
  /** Atoms, slots per atom, slots in all (N·K), hidden size. */
  n: number;
  K: number;
  E: number;
  H: number;
  eps: number;
}

/** `qkv` and `lin1` hold the preceding RMSNorm's weight folded into W (normLinearForward). */
export interface GpuAttention { qkv: LinearLayer; out: LinearLayer; resScale: number; radialWeight: Float64Array | null }
export interface GpuFfn {
  lin1: LinearLayer; lin2: LinearLayer; resScale: number;
  /** lin2 split by input columns at lin1.outDim / 2 (first half with the bias), uploaded on first use (ffn.ts). */
  lin2Halves(): [LinearLayer, LinearLayer];
}
export interface GpuHead { lin1: LinearLayer; lin2: LinearLayer }

/** Uploads of one model's weights (float32), each a pooled buffer of its own for the model's lifetime. */
export class WeightUploader {
  private seq = 0;
  constructor(private readonly rt: GpuRuntime) {}

  vector(name: string, v: Float64Array): GPUBuffer {
    return this.rt.upload(`w.${this.seq++}.${name}`, Float32Array.from(v));
  }

  linear(name: string, l: LinearParams): LinearLayer {
    return { weight: this.vector(`${name}.W`, l.W), bias: l.b ? this.vector(`${name}.b`, l.b) : null, inDim: l.inDim, outDim: l.outDim };
  }

  /** l split by input columns: [0, at) with l's bias, [at, inDim) without (Lin([a ‖ b]) = Lin_a(a) + Lin_b(b)). */
  columnSplit(name: string, l: LinearParams, at: number): [LinearLayer, LinearLayer] {
    const part = (from: number, to: number) => {
      const W = new Float64Array(l.outDim * (to - from));
      for (let o = 0; o < l.outDim; o++) W.set(l.W.subarray(o * l.inDim + from, o * l.inDim + to), o * (to - from));
      return W;
    };
    return [
      { weight: this.vector(`${name}.W[:, :${at}]`, part(0, at)), bias: l.b ? this.vector(`${name}.b`, l.b) : null, inDim: at, outDim: l.outDim },
      { weight: this.vector(`${name}.W[:, ${at}:]`, part(at, l.inDim)), bias: null, inDim: l.inDim - at, outDim: l.outDim },
    ];
  }

  /** Lin(RMSNorm(x)) as one layer: the norm weight w folded into W (W[n,k]·w[k]). */
  normLinear(name: string, l: LinearParams, norm: Float64Array): LinearLayer {
    return { ...this.linear(name, { ...l, W: foldNormWeight(l.W, l.outDim, norm) }), inDim: l.inDim, outDim: l.outDim };
  }

  /** q, k and v as one [3H, H] layer (one matmul for the three projections), with the norm weight folded in. */
  fusedQkv(name: string, a: AttentionParams): LinearLayer {
    const H = a.q.inDim;
    const W = new Float64Array(3 * H * H), b = new Float64Array(3 * H);
    [a.q, a.k, a.v].forEach((l, i) => { W.set(l.W, i * H * H); if (l.b) b.set(l.b, i * H); });
    return { weight: this.vector(`${name}.qkv.W`, foldNormWeight(W, 3 * H, a.norm)), bias: this.vector(`${name}.qkv.b`, b), inDim: H, outDim: 3 * H };
  }

  attention(name: string, a: AttentionParams): GpuAttention {
    return { qkv: this.fusedQkv(name, a), out: this.linear(`${name}.out`, a.out), resScale: a.resScale, radialWeight: a.radialWeight };
  }

  ffn(name: string, f: FfnParams): GpuFfn {
    let halves: [LinearLayer, LinearLayer] | null = null;
    return {
      lin1: this.normLinear(`${name}.1`, f.lin1, f.norm), lin2: this.linear(`${name}.2`, f.lin2), resScale: f.resScale,
      lin2Halves: () => (halves ??= this.columnSplit(`${name}.2`, f.lin2, f.lin1.outDim / 2)),
    };
  }

  head(name: string, h: HeadParams): GpuHead {
    return { lin1: this.normLinear(`${name}.1`, h.lin1, h.norm), lin2: this.linear(`${name}.2`, h.lin2) };
  }
}

/**
 * y = act(RMSNorm(x)·Wᵀ + b) in one linear pass (`layer` from normLinear / fusedQkv); returns 1/rms per row,
 * the backward pass's only saved value besides x.
 */
export function normLinearForward(
  c: BlockContext, x: Tensor, layer: LinearLayer, out: { y: Tensor; gelu?: boolean; pre?: Tensor }, label: string,
): Tensor {
  const invRms = c.ws.tensor(`${label}.inv_rms`, x.rows, 1);
  linearForward(c.rt, c.rec, { x, rows: x.rows, layer, ...out, norm: { invRms, eps: c.eps } });
  return invRms;
}

/**
 * dx = RMSNorm'ᵀ·dy of the unit-weight norm (the weight lives in the next layer's W, so dy is already the
 * gradient of the unweighted normalised row), plus `residual` (the skip connection's gradient) when given,
 * over rows (slices) of x, into `dx`: the norm's own pass where linearNormBackward cannot fuse it.
 */
export function normBackwardRows(
  c: BlockContext, x: Tensor | TensorSlice, invRms: Operand, dy: Operand, residual: Operand | null, dx: Operand,
): void {
  const cols = 'cols' in x ? x.cols : x.tensor.cols;
  const weight = unitWeight(c.rt, cols);
  rmsNormBackward(c.rt, c.rec, { x, weight, rows: x.rows, dim: cols, invRms, dy, dx, ...(residual ? { residual } : {}) });
}

/** A norm weight of ones (`cols` of them), uploaded once per runtime. */
const unitWeights = new WeakMap<GpuRuntime, Map<number, GPUBuffer>>();
function unitWeight(rt: GpuRuntime, cols: number): GPUBuffer {
  let perRuntime = unitWeights.get(rt);
  if (!perRuntime) unitWeights.set(rt, (perRuntime = new Map()));
  let w = perRuntime.get(cols);
  if (!w) perRuntime.set(cols, (w = rt.upload(`ones.${cols}`, new Float32Array(cols).fill(1))));
  return w;
}

/** The input gradient of a linear layer (`dy` as one operand, or as the column parts of a q, k, v projection). */
export interface LinearGrad { dy: Operand | Operand[]; layer: LinearLayer; gelu?: boolean; pre?: Operand; dyRow0?: boolean }

/**
 * dx = RMSNorm'ᵀ·(lin's input gradient) + residual for a layer fed by a unit-weight RMSNorm of x (normLinearForward):
 * in the matmul's own pass where one 64-column tile holds a whole row (H ≤ 64), else a norm pass after it.
 */
export function linearNormBackward(
  c: BlockContext, lin: LinearGrad, x: Tensor | TensorSlice, invRms: Operand, residual: Operand | null, dx: Operand, label: string,
): void {
  const rows = x.rows;
  const fused = lin.layer.inDim <= fusedNormMaxDim;
  const dxn = fused ? dx : c.ws.tensor(`${label}.d_normed`, rows, lin.layer.inDim);
  const norm = fused ? { x, invRms, ...(residual ? { residual } : {}) } : undefined;
  if (Array.isArray(lin.dy)) linearBackwardInputParts(c.rt, c.rec, { dyParts: lin.dy, rows, layer: lin.layer, dx: dxn, norm });
  else linearBackwardInput(c.rt, c.rec, { dy: lin.dy, rows, layer: lin.layer, dx: dxn, gelu: lin.gelu, pre: lin.pre, norm, dyRow0: lin.dyRow0 });
  if (!fused) normBackwardRows(c, x, invRms, dxn, residual, dx);
}

/** linearNormBackward into a new tensor shaped like x. */
export function linearNormBackwardNew(c: BlockContext, lin: LinearGrad, x: Tensor, invRms: Operand, residual: Tensor | null, label: string): Tensor {
  const dx = c.ws.tensor(`${label}.d_input`, x.rows, x.cols);
  linearNormBackward(c, lin, x, invRms, residual, dx, label);
  return dx;
}

/**
 * Atom ranges [first atom, atoms] to run a stage over so that no binding is more than the runtime's binding
 * limit (rt.maxBinding): `bytesPerAtom` is the most bytes per atom of any array the stage binds per chunk, and
 * `sliceBytesPerAtom` the bytes per atom of the arrays bound as row ranges (Tensor.slice), whose byte offsets
 * must be multiples of the device's offset alignment, so chunk starts are multiples of the atoms that takes.
 * One range (all atoms) when everything fits. Throws DeviceLimitError naming `what` when even the smallest
 * aligned chunk does not fit.
 */
export function atomChunks(c: BlockContext, bytesPerAtom: number, sliceBytesPerAtom: number[], what: string): [number, number][] {
  const limit = c.rt.maxBinding, align = c.rt.bindingAlignment;
  if (c.n * bytesPerAtom <= limit) return [[0, c.n]];
  let unit = 1;
  for (const b of sliceBytesPerAtom) unit = lcm(unit, align / gcd(b, align));
  const most = Math.floor(limit / bytesPerAtom / unit) * unit;
  if (most < 1) throw new DeviceLimitError('maxStorageBufferBindingSize', unit * bytesPerAtom, limit, `${what} for ${unit} atom(s) (the smallest aligned chunk)`);
  // as few chunks as fit, of near-equal size (the largest binding well under the limit, not at it)
  const per = Math.min(most, Math.ceil(c.n / Math.ceil(c.n / most) / unit) * unit);
  const chunks: [number, number][] = [];
  for (let a = 0; a < c.n; a += per) chunks.push([a, Math.min(per, c.n - a)]);
  return chunks;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
