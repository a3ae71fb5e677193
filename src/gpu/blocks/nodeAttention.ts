// Node attention block on the GPU (src/cpu/nodeAttention.ts): all-to-all attention over the atoms of a system,
// with the ERoPE bias; X + s·Out(Attn(RMSNorm(X))). The backward pass keeps X, 1/rms, q, k, v, O and the row
// statistics (the op recomputes the attention weights from them), and adds the ERoPE share of ∂E/∂positions.
import { linearBackwardInput, linearForward } from '../ops/linear';
import {
  nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, type EropeWeights, type NodeAttentionGeometry,
} from '../ops/nodeAttention';
import { copyCols, scaleAdd } from '../ops/rows';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { normBackward, normForward, type BlockContext, type GpuAttention } from './context';

export interface NodeAttentionInputs {
  geometry: NodeAttentionGeometry;
  /** ERoPE frequencies ω, or null without ERoPE. */
  omega: ArrayLike<number> | null;
  numHeads: number;
}

export interface NodeAttentionSaved { x: Tensor; invRms: Tensor; q: Tensor; k: Tensor; v: Tensor; o: Tensor; stats: Tensor }

// ops/nodeAttention.ts types these bindings as GPUBuffer; it only binds them, so a workspace tensor serves.
const bind = (t: Tensor) => t as unknown as GPUBuffer;

function shapeOf(c: BlockContext, g: NodeAttentionInputs) {
  return { n: c.n, numHeads: g.numHeads, headDim: c.H / g.numHeads };
}

function eropeOf(a: GpuAttention, g: NodeAttentionInputs): EropeWeights | null {
  return g.omega && a.radialWeight ? { omega: g.omega, radialWeight: a.radialWeight } : null;
}

export function forward(c: BlockContext, a: GpuAttention, g: NodeAttentionInputs, x: Tensor, label: string): { y: Tensor; saved: NodeAttentionSaved } {
  const { y: xn, invRms } = normForward(c, x, a.norm, label);
  const project = (layer: typeof a.q, name: string) => {
    const t = c.ws.tensor(`${label}.${name}`, c.n, c.H);
    linearForward(c.rt, c.rec, { x: xn, rows: c.n, layer, y: t });
    return t;
  };
  const q = project(a.q, 'q'), k = project(a.k, 'k'), v = project(a.v, 'v');
  const shape = shapeOf(c, g);
  const o = c.ws.tensor(`${label}.attention`, c.n, c.H), stats = c.ws.tensor(`${label}.row_stats`, nodeAttentionGradSizes(shape).stats, 1);
  nodeAttentionForward(c.rt, c.rec, { shape, q, k, v, geometry: g.geometry, erope: eropeOf(a, g), o, stats: bind(stats) });
  const y = c.ws.tensor(`${label}.y`, c.n, c.H);
  linearForward(c.rt, c.rec, { x: o, rows: c.n, layer: a.out, y, residual: { x, scale: a.resScale } });
  return { y, saved: { x, invRms, q, k, v, o, stats } };
}

/** ∂E/∂X from ∂E/∂Y; ADDS the ERoPE share (N×12: ∂E/∂position, per-atom virial) into `geometryGrad`. */
export function backward(
  c: BlockContext, a: GpuAttention, g: NodeAttentionInputs, s: NodeAttentionSaved, dy: Tensor, geometryGrad: Operand, label: string,
): Tensor {
  const dO = c.ws.tensor(`${label}.d_attention`, c.n, c.H);
  linearBackwardInput(c.rt, c.rec, { dy, rows: c.n, layer: a.out, dx: dO, scale: a.resScale });
  const shape = shapeOf(c, g), sz = nodeAttentionGradSizes(shape);
  const queryGrads = c.ws.tensor(`${label}.query_grads`, sz.queryGrads, 1), keyGrads = c.ws.tensor(`${label}.key_grads`, sz.keyGrads, 1);
  nodeAttentionBackward(c.rt, c.rec, {
    shape, q: s.q, k: s.k, v: s.v, o: s.o, dO, stats: bind(s.stats), geometry: g.geometry, erope: eropeOf(a, g),
    queryGrads: bind(queryGrads), keyGrads: bind(keyGrads), geometryGrad: geometryGrad as GPUBuffer,
  });
  // dq at 0 of queryGrads; dk at 0 and dv at N·H of keyGrads
  const nH = c.n * c.H;
  const column = (from: Tensor, offset: number, name: string) => {
    const t = c.ws.tensor(`${label}.${name}`, c.n, c.H);
    copyCols(c.rt, c.rec, c.n, c.H, from, c.H, offset, t, c.H, 0);
    return t;
  };
  const dq = column(queryGrads, 0, 'd_q'), dk = column(keyGrads, 0, 'd_k'), dv = column(keyGrads, nH, 'd_v');
  const back = (d: Tensor, layer: typeof a.q, name: string) => {
    const t = c.ws.tensor(`${label}.${name}`, c.n, c.H);
    linearBackwardInput(c.rt, c.rec, { dy: d, rows: c.n, layer, dx: t });
    return t;
  };
  const dxq = back(dq, a.q, 'd_normed_q'), dxk = back(dk, a.k, 'd_normed_k'), dxv = back(dv, a.v, 'd_normed_v');
  const dqk = c.ws.tensor(`${label}.d_normed_qk`, c.n, c.H), dxn = c.ws.tensor(`${label}.d_normed`, c.n, c.H);
  scaleAdd(c.rt, c.rec, nH, dxq, dxk, dqk, 1, 1);
  scaleAdd(c.rt, c.rec, nH, dqk, dxv, dxn, 1, 1);
  return normBackward(c, s.x, a.norm, s.invRms, dxn, dy, label);
}
