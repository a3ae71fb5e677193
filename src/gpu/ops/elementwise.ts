// RMSNorm forward and backward (shaders/nn/rmsnorm.wgsl): one workgroup per row with a tree reduction.
import rmsnormWgsl from '../../../shaders/nn/rmsnorm.wgsl?raw';
import type { GpuRuntime, Recorder } from '../runtime';

/** y = RMSNorm(x)·w per row; saves 1/rms per row into `invRms` for the backward pass. */
export function rmsNormForward(
  rt: GpuRuntime, rec: Recorder,
  a: { x: GPUBuffer; weight: GPUBuffer; rows: number; dim: number; eps: number; y: GPUBuffer; invRms: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'rmsnorm', code: rmsnormWgsl, entryPoint: 'forward' });
  rec.dispatch(k, { x: a.x, weight: a.weight, y: a.y, inv_rms: a.invRms }, { rows: a.rows, dim: a.dim, eps: a.eps }, a.rows);
}

export function rmsNormBackward(
  rt: GpuRuntime, rec: Recorder,
  a: { x: GPUBuffer; weight: GPUBuffer; rows: number; dim: number; invRms: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'rmsnorm', code: rmsnormWgsl, entryPoint: 'backward' });
  rec.dispatch(k, { x: a.x, weight: a.weight, inv_rms: a.invRms, dy: a.dy, dx: a.dx }, { rows: a.rows, dim: a.dim, eps: 0 }, a.rows);
}
