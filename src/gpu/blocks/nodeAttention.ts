// Node attention block on the GPU (src/cpu/nodeAttention.ts): all-to-all attention over the atoms of a system,
// with the ERoPE bias; X + s·Out(Attn(RMSNorm(X))). q‖k‖v is one N×3H projection (one matmul forward, one
// input-gradient matmul backward from the op's dq‖dk‖dv, no column copies). The backward pass keeps X, 1/rms,
// q‖k‖v, O and the row statistics (the op recomputes the attention weights from them), and adds the ERoPE
// share of ∂E/∂positions.
import { linearBackwardInput, linearForward } from '../ops/linear';
import {
  nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, type EropeWeights, type NodeAttentionGeometry,
} from '../ops/nodeAttention';
import type { Operand } from '../runtime';
import type { Tensor } from '../workspace';
import { linearNormBackwardNew, normLinearForward, type BlockContext, type GpuAttention } from './context';

export interface NodeAttentionInputs {
  geometry: NodeAttentionGeometry;
  /** ERoPE frequencies ω, or null without ERoPE. */
  omega: ArrayLike<number> | null;
  numHeads: number;
}

export interface NodeAttentionSaved { x: Tensor; invRms: Tensor; qkv: Tensor; o: Tensor; stats: Tensor }

// ops/nodeAttention.ts types these bindings as GPUBuffer; it only binds them, so a workspace tensor serves.
const bind = (t: Tensor) => t as unknown as GPUBuffer;

function shapeOf(c: BlockContext, g: NodeAttentionInputs) {
  return { n: c.n, numHeads: g.numHeads, headDim: c.H / g.numHeads };
}

function eropeOf(a: GpuAttention, g: NodeAttentionInputs): EropeWeights | null {
  return g.omega && a.radialWeight ? { omega: g.omega, radialWeight: a.radialWeight } : null;
}

export function forward(c: BlockContext, a: GpuAttention, g: NodeAttentionInputs, x: Tensor, label: string): { y: Tensor; saved: NodeAttentionSaved } {
  const qkv = c.ws.tensor(`${label}.qkv`, c.n, 3 * c.H);
  const invRms = normLinearForward(c, x, a.qkv, { y: qkv }, label);
  const shape = shapeOf(c, g);
  const o = c.ws.tensor(`${label}.attention`, c.n, c.H), stats = c.ws.tensor(`${label}.row_stats`, nodeAttentionGradSizes(shape).stats, 1);
  nodeAttentionForward(c.rt, c.rec, { shape, qkv, geometry: g.geometry, erope: eropeOf(a, g), o, stats: bind(stats) });
  const y = c.ws.tensor(`${label}.y`, c.n, c.H);
  linearForward(c.rt, c.rec, { x: o, rows: c.n, layer: a.out, y, residual: { x, scale: a.resScale } });
  return { y, saved: { x, invRms, qkv, o, stats } };
}

/** ∂E/∂X from ∂E/∂Y; ADDS the ERoPE share (N×12: ∂E/∂position, per-atom virial) into `geometryGrad`. */
export function backward(
  c: BlockContext, a: GpuAttention, g: NodeAttentionInputs, s: NodeAttentionSaved, dy: Tensor, geometryGrad: Operand, label: string,
): Tensor {
  const dO = c.ws.tensor(`${label}.d_attention`, c.n, c.H);
  linearBackwardInput(c.rt, c.rec, { dy, rows: c.n, layer: a.out, dx: dO, scale: a.resScale });
  const shape = shapeOf(c, g);
  // its first N×3H words are dq‖dk‖dv, the rest the op's per-group ERoPE partials
  const dQkv = c.ws.tensor(`${label}.d_qkv`, nodeAttentionGradSizes(shape).dQkv, 1);
  nodeAttentionBackward(c.rt, c.rec, {
    shape, qkv: s.qkv, o: s.o, dO, stats: bind(s.stats), geometry: g.geometry, erope: eropeOf(a, g),
    dQkv: bind(dQkv), geometryGrad: geometryGrad as GPUBuffer,
  });
  return linearNormBackwardNew(c, { dy: dQkv, layer: a.qkv }, s.x, s.invRms, dy, label);
}
