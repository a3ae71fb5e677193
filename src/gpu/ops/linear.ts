// Linear layer (optionally fused with bias and exact GELU) and its input gradient.
import geluWgsl from '../../../shaders/nn/gelu.wgsl?raw';
import linearWgsl from '../../../shaders/nn/linear.wgsl?raw';
import type { GpuRuntime, Recorder } from '../runtime';

const code = `${geluWgsl}\n${linearWgsl}`;
const TILE = 64;

export interface LinearLayer {
  /** [outDim, inDim] row-major (PyTorch layout). */
  weight: GPUBuffer;
  bias: GPUBuffer | null;
  inDim: number;
  outDim: number;
}

function grid(rows: number, cols: number): { tilesN: number; workgroups: number } {
  const tilesN = Math.ceil(cols / TILE);
  return { tilesN, workgroups: Math.ceil(rows / TILE) * tilesN };
}

/** y[rows,out] = act(x·Wᵀ + b); with `gelu`, `pre` receives the pre-activation for the backward pass. */
export function linearForward(
  rt: GpuRuntime, rec: Recorder,
  a: { x: GPUBuffer; rows: number; layer: LinearLayer; y: GPUBuffer; gelu?: boolean; pre?: GPUBuffer },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearForward: GELU needs a buffer for the pre-activation');
  const k = rt.kernel({
    label: 'linear', code, entryPoint: 'forward',
    constants: { GELU: gelu ? 1 : 0, HAS_BIAS: a.layer.bias ? 1 : 0 },
  });
  const { tilesN, workgroups } = grid(a.rows, a.layer.outDim);
  rec.dispatch(k, { x: a.x, weight: a.layer.weight, bias: a.layer.bias ?? rt.dummy('read'), y: a.y, pre: a.pre ?? rt.dummy('write') },
    { rows: a.rows, cols: a.layer.outDim, depth: a.layer.inDim, tiles_n: tilesN }, workgroups);
}

/** dx[rows,in] = (dy ⊙ GELU'(pre))·W, or dy·W without GELU. */
export function linearBackwardInput(
  rt: GpuRuntime, rec: Recorder,
  a: { dy: GPUBuffer; rows: number; layer: LinearLayer; dx: GPUBuffer; gelu?: boolean; pre?: GPUBuffer },
): void {
  const gelu = !!a.gelu;
  if (gelu && !a.pre) throw new Error('linearBackwardInput: GELU needs the saved pre-activation');
  const k = rt.kernel({ label: 'linear', code, entryPoint: 'backward_input', constants: { GELU: gelu ? 1 : 0 } });
  const { tilesN, workgroups } = grid(a.rows, a.layer.inDim);
  rec.dispatch(k, { x: a.dy, weight: a.layer.weight, y: a.dx, pre: a.pre ?? rt.dummy('write') },
    { rows: a.rows, cols: a.layer.inDim, depth: a.layer.outDim, tiles_n: tilesN }, workgroups);
}
