// Linear layer (optionally fused with bias and exact GELU) and its input gradient, on dense operands or on
// the graph slots' [RBF(d), SH] edge input made on the fly (shaders/nn/linear_edge_input.wgsl).
import geluWgsl from '../../../shaders/nn/gelu.wgsl?raw';
import linearWgsl from '../../../shaders/nn/linear.wgsl?raw';
import denseWgsl from '../../../shaders/nn/linear_dense.wgsl?raw';
import dxWgsl from '../../../shaders/nn/linear_dx.wgsl?raw';
import edgeInputWgsl from '../../../shaders/nn/linear_edge_input.wgsl?raw';
import partsWgsl from '../../../shaders/nn/linear_parts.wgsl?raw';
import selfWgsl from '../../../shaders/nn/linear_self.wgsl?raw';
import { UNUSED, type GpuRuntime, type Operand, type Recorder } from '../runtime';

const code = `${geluWgsl}\n${linearWgsl}\n${denseWgsl}\n${dxWgsl}`;
const edgeCode = `${geluWgsl}\n${linearWgsl}\n${edgeInputWgsl}`;
const partsCode = `${geluWgsl}\n${linearWgsl}\n${partsWgsl}\n${dxWgsl}`;
const selfCode = `${geluWgsl}\n${linearWgsl}\n${selfWgsl}`;
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
 * the norm weight (foldNormWeight), so RMSNorm(x)·Wᵀ = (1/rms)·x·W'ᵀ; with `rowTerm`, table[row / slots] is
 * added before the activation (a per-atom product broadcast to its slots).
 */
export function linearForward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    x: Operand; rows: number; layer: LinearLayer; y: Operand; gelu?: boolean; pre?: Operand; residual?: { x: Operand; scale: number };
    norm?: { invRms: Operand; eps: number }; rowTerm?: { table: Operand; slots: number };
    /** y is columns [offset, offset + out) of rows `stride` wide (written in place into a wider array). */
    yCols?: { stride: number; offset: number };
    /** y += accumulate·act(x·Wᵀ + b) (a second product into the same output), instead of y = …. */
    accumulate?: number;
  },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearForward: GELU needs a buffer for the pre-activation');
  if (a.accumulate !== undefined && a.residual) throw new Error('linearForward: accumulate or residual, not both');
  const k = rt.kernel({
    label: 'linear', code, entryPoint: 'forward',
    constants: {
      GELU: gelu ? 1 : 0, HAS_BIAS: a.layer.bias ? 1 : 0, RESIDUAL: a.residual ? 1 : 0, NORM: a.norm ? 1 : 0, ROW_TERM: a.rowTerm ? 1 : 0,
      ...(a.accumulate !== undefined ? { ACCUMULATE: 1 } : {}),
    },
  });
  const { tilesN, workgroups } = grid(a.rows, a.layer.outDim);
  rec.dispatch(k, {
    x_in: a.x, weight: a.layer.weight, bias: a.layer.bias ?? UNUSED, y_out: a.y, pre: a.pre ?? UNUSED,
    res: a.residual?.x ?? UNUSED, inv_rms: a.norm?.invRms ?? UNUSED, row_in: a.rowTerm?.table ?? UNUSED,
  }, {
    rows: a.rows, cols: a.layer.outDim, depth: a.layer.inDim, tiles_n: tilesN, alpha: a.residual?.scale ?? a.accumulate ?? 1,
    eps: a.norm?.eps ?? 0, slots: a.rowTerm?.slots ?? 1, y_stride: a.yCols?.stride ?? 0, y_off: a.yCols?.offset ?? 0,
  }, workgroups);
}

/**
 * y[rows,out] = residual.x + residual.scale·(x·Wᵀ + b) over graph slots (`slots` rows per atom), also writing
 * each atom's slot-0 row of y into `node` (atoms × out): the layer output's node states without a gather.
 */
export function linearForwardWithSelf(
  rt: GpuRuntime, rec: Recorder,
  a: { x: Operand; rows: number; layer: LinearLayer; y: Operand; residual: { x: Operand; scale: number }; slots: number; node: Operand },
): void {
  const k = rt.kernel({ label: 'linear.self', code: selfCode, entryPoint: 'forward', constants: { HAS_BIAS: a.layer.bias ? 1 : 0, RESIDUAL: 1 } });
  const { tilesN, workgroups } = grid(a.rows, a.layer.outDim);
  rec.dispatch(k, {
    x_in: a.x, weight: a.layer.weight, bias: a.layer.bias ?? UNUSED, y_out: a.y, pre: UNUSED, res: a.residual.x, node_out: a.node,
  }, { rows: a.rows, cols: a.layer.outDim, depth: a.layer.inDim, tiles_n: tilesN, alpha: a.residual.scale, slots: a.slots }, workgroups);
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
 * The input gradient on through the unit-weight RMSNorm that fed the layer (its weight folded into W): dx =
 * RMSNorm'ᵀ·(dy·W) + residual, in the matmul's pass (one column tile holds each whole row, so only for
 * in features ≤ fusedNormMaxDim).
 */
export interface NormBackward { x: Operand; invRms: Operand; residual?: Operand }

/** Widest input a linear backward can take its RMSNorm's backward into (one 64-column tile per row). */
export const fusedNormMaxDim = TILE;

function normBindings(rt: GpuRuntime, layer: LinearLayer, norm: NormBackward | undefined, scale: number | undefined, accumulate: boolean | undefined) {
  if (norm && (layer.inDim > TILE || (scale ?? 1) !== 1 || accumulate)) {
    throw new RangeError(`linear backward with its RMSNorm: needs in features ≤ ${TILE}, scale 1 and no accumulation (in ${layer.inDim})`);
  }
  return {
    bindings: { norm_in: norm?.x ?? UNUSED, inv_rms: norm?.invRms ?? UNUSED, res: norm?.residual ?? UNUSED },
    constants: (norm ? { NORM: 1, RESIDUAL: norm.residual ? 1 : 0 } : {}) as Record<string, number>,
  };
}

/**
 * dx[rows,in] = scale·(dy ⊙ GELU'(pre))·W, or scale·dy·W without GELU (scale default 1); with `accumulate`,
 * added to what dx holds; with `norm`, on through the RMSNorm before the layer (NormBackward); with `sumSlots`
 * S, dy and pre have S rows per output row and their products are summed over them (the input gradient of a
 * layer whose output was broadcast to S slots: linearForward's rowTerm).
 */
export function linearBackwardInput(
  rt: GpuRuntime, rec: Recorder,
  a: {
    dy: Operand; rows: number; layer: LinearLayer; dx: Operand; gelu?: boolean; pre?: Operand; scale?: number; accumulate?: boolean;
    norm?: NormBackward; sumSlots?: number;
    /** dy is columns [offset, offset + out) of rows `stride` wide (linearForward's yCols). */
    dyCols?: { stride: number; offset: number };
    /** dy holds one row, the same for every row. */
    dyRow0?: boolean;
    /** dx ⊙ GELU'(outGelu): the pre-activation of this layer's input (rows × in), for the GELU before it. */
    outGelu?: Operand;
  },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearBackwardInput: GELU needs the saved pre-activation');
  if (a.outGelu && (gelu || a.norm || a.accumulate)) throw new Error('linearBackwardInput: outGelu goes without GELU on dy, norm or accumulate');
  const norm = normBindings(rt, a.layer, a.norm, a.scale, a.accumulate);
  const constants: Record<string, number> = {
    GELU: gelu ? 1 : 0, ...(a.accumulate ? { ACCUMULATE: 1 } : {}), ...(a.sumSlots ? { SUM_SLOTS: 1 } : {}), ...(a.dyRow0 ? { DY_ROW0: 1 } : {}), ...(a.outGelu ? { OUT_GELU: 1 } : {}), ...norm.constants,
  };
  const k = rt.kernel({ label: 'linear', code, entryPoint: 'backward_input', constants });
  const { tilesN, workgroups } = grid(a.rows, a.layer.inDim);
  rec.dispatch(k, { x_in: a.dy, weight: a.layer.weight, y_out: a.dx, pre: a.pre ?? a.outGelu ?? UNUSED, ...norm.bindings },
    { rows: a.rows, cols: a.layer.inDim, depth: a.layer.outDim, tiles_n: tilesN, alpha: a.scale ?? 1, slots: a.sumSlots ?? 1,
      y_stride: a.dyCols?.stride ?? 0, y_off: a.dyCols?.offset ?? 0 }, workgroups);
}

/** Two or three equal column parts of a layer's output, each rows × (outDim / parts.length). */
function partBindings(rt: GpuRuntime, layer: LinearLayer, parts: Operand[]) {
  if (parts.length < 2 || parts.length > 3 || layer.outDim % parts.length !== 0) {
    throw new RangeError(`linear parts: ${parts.length} parts of ${layer.outDim} columns`);
  }
  return { part0: parts[0], part1: parts[1], part2: parts[2] ?? UNUSED, partCols: layer.outDim / parts.length };
}

/**
 * y = RMSNorm(x)·Wᵀ + b (norm optional, as in linearForward) written as column parts: part i holds columns
 * i·outDim/P … of y (P = 2 or 3 parts, each rows × outDim/P, bound on its own).
 */
export function linearForwardParts(
  rt: GpuRuntime, rec: Recorder,
  a: { x: Operand; rows: number; layer: LinearLayer; parts: Operand[]; norm?: { invRms: Operand; eps: number }; gelu?: boolean },
): void {
  const { partCols, ...parts } = partBindings(rt, a.layer, a.parts);
  // with GELU the pre-activation is not kept (a backward makes it again: linearForwardParts without GELU)
  const constants = { HAS_BIAS: a.layer.bias ? 1 : 0, NORM: a.norm ? 1 : 0, ...(a.gelu ? { GELU: 1, STORE_PRE: 0 } : {}) };
  const k = rt.kernel({ label: 'linear.parts', code: partsCode, entryPoint: 'forward', constants });
  const { tilesN, workgroups } = grid(a.rows, a.layer.outDim);
  rec.dispatch(k, {
    x_in: a.x, weight: a.layer.weight, bias: a.layer.bias ?? UNUSED, pre: UNUSED, ...parts,
    inv_rms: a.norm?.invRms ?? UNUSED,
  }, { rows: a.rows, cols: a.layer.outDim, depth: a.layer.inDim, tiles_n: tilesN, eps: a.norm?.eps ?? 0, part_cols: partCols }, workgroups);
}

/** dx[rows,in] = scale·dy·W with dy given as the column parts linearForwardParts writes; `norm` as in linearBackwardInput. */
export function linearBackwardInputParts(
  rt: GpuRuntime, rec: Recorder, a: { dyParts: Operand[]; rows: number; layer: LinearLayer; dx: Operand; scale?: number; norm?: NormBackward },
): void {
  const { partCols, ...parts } = partBindings(rt, a.layer, a.dyParts);
  const norm = normBindings(rt, a.layer, a.norm, a.scale, false);
  const k = rt.kernel({ label: 'linear.parts', code: partsCode, entryPoint: 'backward_input', constants: norm.constants });
  const { tilesN, workgroups } = grid(a.rows, a.layer.inDim);
  rec.dispatch(k, { weight: a.layer.weight, y_out: a.dx, ...parts, ...norm.bindings },
    { rows: a.rows, cols: a.layer.inDim, depth: a.layer.outDim, tiles_n: tilesN, alpha: a.scale ?? 1, part_cols: partCols }, workgroups);
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
  rec.dispatch(k, { weight: a.layer.weight, bias: a.layer.bias ?? UNUSED, y_out: a.y, pre: a.pre ?? UNUSED, slot_meta: e.slotMeta, slot_geom: e.slotGeom, sh: e.sh },
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
  rec.dispatch(k, { x_in: a.dy, weight: a.layer.weight, pre: a.pre ?? UNUSED, slot_meta: e.slotMeta, slot_geom: e.slotGeom, grad_sh: a.gradSh, dist_part: a.distPart },
    edgeParams(e, a.layer.inDim, a.layer.outDim, tilesN), workgroups);
}
