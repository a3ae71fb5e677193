// What every block of the GPU model records into: the runtime, the recording and its workspace, and the
// sizes of the padded slot layout (N atoms × K slots; slot 0 of each row is the self-loop = node state).
// Weights are uploaded once per model (uploadWeights); activations are workspace tensors of the recording.
import type { AttentionParams, FfnParams, HeadParams, LinearParams } from '../../model/params';
import type { GpuRuntime, Operand, Recorder } from '../runtime';
import type { Tensor, Workspace } from '../workspace';
import type { LinearLayer } from '../ops/linear';
import { rmsNormBackward, rmsNormForward } from '../ops/elementwise';

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

export interface GpuAttention { qkv: LinearLayer; out: LinearLayer; norm: GPUBuffer; resScale: number; radialWeight: Float64Array | null }
export interface GpuFfn { lin1: LinearLayer; lin2: LinearLayer; norm: GPUBuffer; resScale: number }
export interface GpuHead { norm: GPUBuffer; lin1: LinearLayer; lin2: LinearLayer }

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

  /** q, k and v as one [3H, H] layer (one matmul for the three projections). */
  fusedQkv(name: string, a: AttentionParams): LinearLayer {
    const H = a.q.inDim;
    const W = new Float64Array(3 * H * H), b = new Float64Array(3 * H);
    [a.q, a.k, a.v].forEach((l, i) => { W.set(l.W, i * H * H); if (l.b) b.set(l.b, i * H); });
    return { weight: this.vector(`${name}.qkv.W`, W), bias: this.vector(`${name}.qkv.b`, b), inDim: H, outDim: 3 * H };
  }

  attention(name: string, a: AttentionParams): GpuAttention {
    return {
      qkv: this.fusedQkv(name, a),
      out: this.linear(`${name}.out`, a.out), norm: this.vector(`${name}.norm`, a.norm), resScale: a.resScale, radialWeight: a.radialWeight,
    };
  }

  ffn(name: string, f: FfnParams): GpuFfn {
    return { lin1: this.linear(`${name}.1`, f.lin1), lin2: this.linear(`${name}.2`, f.lin2), norm: this.vector(`${name}.norm`, f.norm), resScale: f.resScale };
  }

  head(name: string, h: HeadParams): GpuHead {
    return { norm: this.vector(`${name}.norm`, h.norm), lin1: this.linear(`${name}.1`, h.lin1), lin2: this.linear(`${name}.2`, h.lin2) };
  }
}

/** RMSNorm of `x` (rows × cols) with its 1/rms per row (the backward pass's only saved value besides x). */
export function normForward(c: BlockContext, x: Tensor, weight: GPUBuffer, label: string): { y: Tensor; invRms: Tensor } {
  const y = c.ws.tensor(`${label}.normed`, x.rows, x.cols), invRms = c.ws.tensor(`${label}.inv_rms`, x.rows, 1);
  rmsNormForward(c.rt, c.rec, { x, weight, rows: x.rows, dim: x.cols, eps: c.eps, y, invRms });
  return { y, invRms };
}

/** dx = RMSNorm'ᵀ·dy, plus `residual` (the skip connection's gradient) when given, in one pass. */
export function normBackward(
  c: BlockContext, x: Tensor, weight: GPUBuffer, invRms: Operand, dy: Tensor, residual: Tensor | null, label: string,
): Tensor {
  const dx = c.ws.tensor(`${label}.d_input`, x.rows, x.cols);
  rmsNormBackward(c.rt, c.rec, { x, weight, rows: x.rows, dim: x.cols, invRms, dy, dx, ...(residual ? { residual } : {}) });
  return dx;
}
