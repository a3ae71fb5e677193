// RMSNorm forward and backward (shaders/nn/rmsnorm.wgsl): one workgroup per row with a tree reduction.
import rmsnormWgsl from '../../../shaders/nn/rmsnorm.wgsl?raw';
import { UNUSED, type GpuRuntime, type Operand, type Recorder } from '../runtime';

/** y = RMSNorm(x)·w per row; saves 1/rms per row into `invRms` for the backward pass. */
export function rmsNormForward(
  rt: GpuRuntime, rec: Recorder,
  a: { x: Operand; weight: Operand; rows: number; dim: number; eps: number; y: Operand; invRms: Operand },
): void {
  const k = rt.kernel({ label: 'rmsnorm', code: rmsnormWgsl, entryPoint: 'forward' });
  rec.dispatch(k, { x: a.x, weight: a.weight, y: a.y, inv_rms: a.invRms }, { rows: a.rows, dim: a.dim, eps: a.eps }, a.rows);
}

/** dx = RMSNorm'ᵀ·dy, plus `residual` (the skip connection's gradient, rows × dim) when given. */
export function rmsNormBackward(
  rt: GpuRuntime, rec: Recorder,
  a: { x: Operand; weight: Operand; rows: number; dim: number; invRms: Operand; dy: Operand; dx: Operand; residual?: Operand },
): void {
  const k = rt.kernel({ label: 'rmsnorm', code: rmsnormWgsl, entryPoint: 'backward', constants: { RESIDUAL: a.residual ? 1 : 0 } });
  rec.dispatch(k, { x: a.x, weight: a.weight, inv_rms: a.invRms, dy: a.dy, dx: a.dx, res: a.residual ?? UNUSED }, { rows: a.rows, dim: a.dim, eps: 0 }, a.rows);
}
