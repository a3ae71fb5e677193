// Feed-forward block on the GPU (src/cpu/ffn.ts): X + s·W₂·GELU(W₁·RMSNorm(X)), on edge slots or on nodes.
// The backward pass keeps X, 1/rms and W₁'s pre-activation; with `recompute` (edge slots, where the
// pre-activation is 2H floats per slot) only X, and makes the pre-activation again from it (two dispatches).
// Where the hidden layer (rows × 2H) is more than one binding may hold, it is two column halves, each a
// tensor (binding) of its own: W₁ writes them as column parts, W₂ is split by input columns at upload
// (Y = X + s·(h₀·W₂ₐᵀ + b₂) + s·h₁·W₂ᵦᵀ); the backward forms each half's gradient times GELU'(pre) in W₂'s
// pass and W₁'s input gradient reads the halves as parts (recompute form; one dispatch more per pass than
// one binding). Where even a half is too wide, both passes run in atom chunks: each chunk's hidden layer is a
// tensor of its own and X, Y, dY, dX are bound as row ranges (recompute form).
import { linearBackwardInput, linearForward, linearForwardParts } from '../ops/linear';
import type { Tensor } from '../workspace';
import { atomChunks, linearNormBackward, linearNormBackwardNew, normLinearForward, type BlockContext, type GpuFfn } from './context';

export interface FfnSaved { x: Tensor; invRms: Tensor | null; pre: Tensor | null }

/** Row ranges [first row, rows] of x (rows = atoms × rows per atom) that keep the hidden layer within one binding. */
function rowChunks(c: BlockContext, f: GpuFfn, x: Tensor, label: string): [number, number][] {
  const per = x.rows / c.n;
  return atomChunks(c, 4 * per * f.lin1.outDim, [4 * per * c.H], `${label}: the hidden layer (${f.lin1.outDim} per row)`)
    .map(([a, n]) => [a * per, n * per]);
}

/** The hidden layer as two column halves where the whole is more than one binding and a half is not. */
function useHalves(c: BlockContext, f: GpuFfn, rows: number): boolean {
  return f.lin1.outDim % 2 === 0 && 4 * rows * f.lin1.outDim > c.rt.maxBinding && 4 * rows * (f.lin1.outDim / 2) <= c.rt.maxBinding;
}

export function forward(c: BlockContext, f: GpuFfn, x: Tensor, label: string, recompute = false): { y: Tensor; saved: FfnSaved } {
  const rows = x.rows;
  if (useHalves(c, f, rows)) return { y: forwardHalves(c, f, x, label), saved: { x, invRms: null, pre: null } };
  const chunks = rowChunks(c, f, x, label);
  if (chunks.length > 1) return { y: forwardChunked(c, f, x, label, chunks), saved: { x, invRms: null, pre: null } };
  const pre = c.ws.tensor(`${label}.pre_gelu`, rows, f.lin1.outDim), h = c.ws.tensor(`${label}.hidden`, rows, f.lin1.outDim);
  const invRms = normLinearForward(c, x, f.lin1, { y: h, gelu: true, pre }, label);
  const y = c.ws.tensor(`${label}.y`, rows, c.H);
  linearForward(c.rt, c.rec, { x: h, rows, layer: f.lin2, y, residual: { x, scale: f.resScale } });
  return { y, saved: recompute ? { x, invRms: null, pre: null } : { x, invRms, pre } };
}

function forwardHalves(c: BlockContext, f: GpuFfn, x: Tensor, label: string): Tensor {
  const rows = x.rows, half = f.lin1.outDim / 2;
  const h = [0, 1].map((i) => c.ws.tensor(`${label}.hidden.half${i}`, rows, half));
  const invRms = c.ws.tensor(`${label}.inv_rms`, rows, 1);
  linearForwardParts(c.rt, c.rec, { x, rows, layer: f.lin1, parts: h, norm: { invRms, eps: c.eps }, gelu: true });
  const [w2a, w2b] = f.lin2Halves();
  const y = c.ws.tensor(`${label}.y`, rows, c.H);
  linearForward(c.rt, c.rec, { x: h[0], rows, layer: w2a, y, residual: { x, scale: f.resScale } });
  linearForward(c.rt, c.rec, { x: h[1], rows, layer: w2b, y, accumulate: f.resScale });
  return y;
}

function forwardChunked(c: BlockContext, f: GpuFfn, x: Tensor, label: string, chunks: [number, number][]): Tensor {
  const y = c.ws.tensor(`${label}.y`, x.rows, c.H);
  for (const [r0, nr] of chunks) {
    const tag = `${label}.rows${r0}`;
    const pre = c.ws.tensor(`${tag}.pre_gelu`, nr, f.lin1.outDim), h = c.ws.tensor(`${tag}.hidden`, nr, f.lin1.outDim);
    const invRms = c.ws.tensor(`${tag}.inv_rms`, nr, 1);
    const xs = x.slice(r0, nr);
    linearForward(c.rt, c.rec, { x: xs, rows: nr, layer: f.lin1, y: h, gelu: true, pre, norm: { invRms, eps: c.eps } });
    linearForward(c.rt, c.rec, { x: h, rows: nr, layer: f.lin2, y: y.slice(r0, nr), residual: { x: xs, scale: f.resScale } });
  }
  return y;
}

export function backward(c: BlockContext, f: GpuFfn, s: FfnSaved, dy: Tensor, label: string): Tensor {
  const rows = s.x.rows;
  if (useHalves(c, f, rows)) return backwardHalves(c, f, s.x, dy, label);
  const chunks = rowChunks(c, f, s.x, label);
  if (chunks.length > 1) return backwardChunked(c, f, s.x, dy, label, chunks);
  const dh = c.ws.tensor(`${label}.d_hidden`, rows, f.lin1.outDim);
  linearBackwardInput(c.rt, c.rec, { dy, rows, layer: f.lin2, dx: dh, scale: f.resScale });
  let { invRms, pre } = s;
  if (!invRms || !pre) {
    pre = c.ws.tensor(`${label}.recomputed.pre_gelu`, rows, f.lin1.outDim);
    invRms = normLinearForward(c, s.x, f.lin1, { y: pre }, `${label}.recomputed`);
  }
  return linearNormBackwardNew(c, { dy: dh, layer: f.lin1, gelu: true, pre }, s.x, invRms, dy, label);
}

function backwardHalves(c: BlockContext, f: GpuFfn, x: Tensor, dy: Tensor, label: string): Tensor {
  const rows = x.rows, half = f.lin1.outDim / 2;
  const pre = [0, 1].map((i) => c.ws.tensor(`${label}.recomputed.pre_gelu.half${i}`, rows, half));
  const invRms = c.ws.tensor(`${label}.recomputed.inv_rms`, rows, 1);
  linearForwardParts(c.rt, c.rec, { x, rows, layer: f.lin1, parts: pre, norm: { invRms, eps: c.eps } });
  // g_i = s·dY·W₂ᵢ ⊙ GELU'(pre_i): the gradient at W₁'s output, per half
  const g = f.lin2Halves().map((layer, i) => {
    const gi = c.ws.tensor(`${label}.d_pre_gelu.half${i}`, rows, half);
    linearBackwardInput(c.rt, c.rec, { dy, rows, layer, dx: gi, scale: f.resScale, outGelu: pre[i] });
    return gi;
  });
  return linearNormBackwardNew(c, { dy: g, layer: f.lin1 }, x, invRms, dy, label);
}

function backwardChunked(c: BlockContext, f: GpuFfn, x: Tensor, dy: Tensor, label: string, chunks: [number, number][]): Tensor {
  const dx = c.ws.tensor(`${label}.d_input`, x.rows, c.H);
  for (const [r0, nr] of chunks) {
    const tag = `${label}.rows${r0}`;
    const dys = dy.slice(r0, nr), xs = x.slice(r0, nr);
    const dh = c.ws.tensor(`${tag}.d_hidden`, nr, f.lin1.outDim);
    linearBackwardInput(c.rt, c.rec, { dy: dys, rows: nr, layer: f.lin2, dx: dh, scale: f.resScale });
    const pre = c.ws.tensor(`${tag}.recomputed.pre_gelu`, nr, f.lin1.outDim), invRms = c.ws.tensor(`${tag}.recomputed.inv_rms`, nr, 1);
    linearForward(c.rt, c.rec, { x: xs, rows: nr, layer: f.lin1, y: pre, norm: { invRms, eps: c.eps } });
    linearNormBackward(c, { dy: dh, layer: f.lin1, gelu: true, pre }, xs, invRms, dys, dx.slice(r0, nr), tag);
  }
  return dx;
}
