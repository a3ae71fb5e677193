// Linear layer (optionally fused with bias and exact GELU) and its input gradient, on dense operands or on
// the graph slots' [RBF(d), SH] edge input made on the fly (shaders/nn/linear_edge_input.wgsl).
import geluWgsl from '../../../shaders/nn/gelu.wgsl?raw';
import linearWgsl from '../../../shaders/nn/linear.wgsl?raw';
import denseWgsl from '../../../shaders/nn/linear_dense.wgsl?raw';
import edgeInputWgsl from '../../../shaders/nn/linear_edge_input.wgsl?raw';
import type { GpuRuntime, Operand, Recorder } from '../runtime';

const code = `${geluWgsl}\n${linearWgsl}\n${denseWgsl}`;
const edgeCode = `${geluWgsl}\n${linearWgsl}\n${edgeInputWgsl}`;
const TILE = 64;

export interface LinearLayer {
  /** [outDim, inDim] row-major (PyTorch layout). */
  weight: Operand;
  bias: Operand | null;
  inDim: number;
  outDim: number;
}

function grid(rows: number, cols: number): { tilesN: number; workgroups: number } {
  const tilesN = Math.ceil(cols / TILE);
  return { tilesN, workgroups: Math.ceil(rows / TILE) * tilesN };
}

/**
 * y[rows,out] = act(x·Wᵀ + b); with `gelu`, `pre` receives the pre-activation for the backward pass; with
 * `residual`, y = residual.x + residual.scale·act(x·Wᵀ + b) (a residual block's output in the same pass);
 * with `norm`, x is RMSNorm'ed first (1/rms per row into norm.invRms) and the layer's W must already hold
 * the norm weight (foldNormWeight), so RMSNorm(x)·Wᵀ = (1/rms)·x·W'ᵀ.
 */
export function linearForward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    x: Operand; rows: number; layer: LinearLayer; y: Operand; gelu?: boolean; pre?: Operand; residual?: { x: Operand; scale: number };
    norm?: { invRms: Operand; eps: number };
  },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearForward: GELU needs a buffer for the pre-activation');
  const k = rt.kernel({
    label: 'linear', code, entryPoint: 'forward',
    constants: { GELU: gelu ? 1 : 0, HAS_BIAS: a.layer.bias ? 1 : 0, RESIDUAL: a.residual ? 1 : 0, NORM: a.norm ? 1 : 0 },
  });
  const { tilesN, workgroups } = grid(a.rows, a.layer.outDim);
  rec.dispatch(k, {
    x_in: a.x, weight: a.layer.weight, bias: a.layer.bias ?? rt.dummy('read'), y_out: a.y, pre: a.pre ?? rt.dummy('write'),
    res: a.residual?.x ?? rt.dummy('read'), inv_rms: a.norm?.invRms ?? rt.buffer('unused-inv-rms', 16),
  }, { rows: a.rows, cols: a.layer.outDim, depth: a.layer.inDim, tiles_n: tilesN, alpha: a.residual?.scale ?? 1, eps: a.norm?.eps ?? 0 }, workgroups);
}

/** W[n,k]·w[k]: a linear layer's [out,in] weights with the preceding RMSNorm's weight w folded in (for `norm`). */
export function foldNormWeight(W: ArrayLike<number>, outDim: number, norm: ArrayLike<number>): Float64Array {
  const inDim = norm.length;
  if (W.length !== outDim * inDim) throw new RangeError(`foldNormWeight: W has ${W.length} values, want ${outDim}×${inDim}`);
  const out = new Float64Array(W.length);
  for (let n = 0; n < outDim; n++) for (let k = 0; k < inDim; k++) out[n * inDim + k] = W[n * inDim + k] * norm[k];
  return out;
}

/**
 * dx[rows,in] = scale·(dy ⊙ GELU'(pre))·W, or scale·dy·W without GELU (scale default 1); with `accumulate`,
 * added to what dx holds.
 */
export function linearBackwardInput(
  rt: GpuRuntime, rec: Recorder,
  a: { dy: Operand; rows: number; layer: LinearLayer; dx: Operand; gelu?: boolean; pre?: Operand; scale?: number; accumulate?: boolean },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearBackwardInput: GELU needs the saved pre-activation');
  const constants: Record<string, number> = a.accumulate ? { GELU: gelu ? 1 : 0, ACCUMULATE: 1 } : { GELU: gelu ? 1 : 0 };
  const k = rt.kernel({ label: 'linear', code, entryPoint: 'backward_input', constants });
  const { tilesN, workgroups } = grid(a.rows, a.layer.inDim);
  rec.dispatch(k, { x_in: a.dy, weight: a.layer.weight, y_out: a.dx, pre: a.pre ?? rt.dummy('write') },
    { rows: a.rows, cols: a.layer.inDim, depth: a.layer.outDim, tiles_n: tilesN, alpha: a.scale ?? 1 }, workgroups);
}

/** The graph slots an edge-input linear layer reads: rows = slots; input = [RBF(d) (rbfSize), SH (shCols)]. */
export interface EdgeInput {
  slots: number;
  slotMeta: Operand;
  slotGeom: Operand;
  /** Slot SH table, slots × shStride; its first shCols columns are the layer's SH input. */
  sh: Operand;
  shStride: number;
  rbfSize: number;
  cutoff: number;
  /** Gaussian exponent c of RBF_i(d) = exp(c·(d − μ_i)²). */
  rbfCoeff: number;
}

function edgeParams(e: EdgeInput, cols: number, depth: number, tilesN: number) {
  return { rows: e.slots, cols, depth, tiles_n: tilesN, rbf_size: e.rbfSize, sh_stride: e.shStride, cutoff: e.cutoff, rbf_coeff: e.rbfCoeff };
}

/** y = act([RBF(d), SH]·Wᵀ + b) per slot, with no RBF table in memory. */
export function edgeInputLinearForward(
  rt: GpuRuntime, rec: Recorder, a: { input: EdgeInput; layer: LinearLayer; y: Operand; gelu?: boolean; pre?: Operand },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('edgeInputLinearForward: GELU needs a buffer for the pre-activation');
  const k = rt.kernel({ label: 'linear.edge_input', code: edgeCode, entryPoint: 'forward', constants: { GELU: gelu ? 1 : 0, HAS_BIAS: a.layer.bias ? 1 : 0 } });
  const { tilesN, workgroups } = grid(a.input.slots, a.layer.outDim);
  const e = a.input;
  rec.dispatch(k, { weight: a.layer.weight, bias: a.layer.bias ?? rt.dummy('read'), y_out: a.y, pre: a.pre ?? rt.dummy('write'), slot_meta: e.slotMeta, slot_geom: e.slotGeom, sh: e.sh },
    edgeParams(e, a.layer.outDim, a.layer.inDim, tilesN), workgroups);
}

/** Partial sums per slot that edgeInputLinearBackward writes into `distPart` (features_backward's DIST_PARTS). */
export function edgeInputDistanceParts(layer: LinearLayer): number {
  return Math.ceil(layer.inDim / TILE);
}

/**
 * Backward of edgeInputLinearForward: ∂E/∂d per slot as edgeInputDistanceParts(layer) partial sums in
 * `distPart` (slots × parts), and the SH columns' gradient ADDED into `gradSh` (slots × shStride).
 */
export function edgeInputLinearBackward(
  rt: GpuRuntime, rec: Recorder,
  a: { input: EdgeInput; dy: Operand; layer: LinearLayer; gelu?: boolean; pre?: Operand; gradSh: Operand; distPart: Operand },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('edgeInputLinearBackward: GELU needs the saved pre-activation');
  const k = rt.kernel({ label: 'linear.edge_input', code: edgeCode, entryPoint: 'backward_input', constants: { GELU: gelu ? 1 : 0 } });
  const { tilesN, workgroups } = grid(a.input.slots, a.layer.inDim);
  const e = a.input;
  rec.dispatch(k, { x_in: a.dy, weight: a.layer.weight, pre: a.pre ?? rt.dummy('write'), slot_meta: e.slotMeta, slot_geom: e.slotGeom, grad_sh: a.gradSh, dist_part: a.distPart },
    edgeParams(e, a.layer.inDim, a.layer.outDim, tilesN), workgroups);
}
