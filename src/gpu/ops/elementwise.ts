// Row-wise and element-wise kernels of the network: RMSNorm, scaled residual, row gather.
import rmsnormWgsl from '../../../shaders/nn/rmsnorm.wgsl?raw';
import residualWgsl from '../../../shaders/nn/residual.wgsl?raw';
import gatherWgsl from '../../../shaders/nn/gather.wgsl?raw';
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

/** out = base + scale·branch (the residual forward, and equally its backward dx = dy + s·dbranch). */
export function scaledAdd(
  rt: GpuRuntime, rec: Recorder,
  a: { base: GPUBuffer; branch: GPUBuffer; scale: number; count: number; out: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'residual', code: residualWgsl, entryPoint: 'main' });
  rec.dispatch(k, { base: a.base, branch: a.branch, out: a.out }, { count: a.count, scale: a.scale }, Math.ceil(a.count / 256));
}

/** out[r,:] = src[index[r],:]. */
export function gatherRows(
  rt: GpuRuntime, rec: Recorder,
  a: { src: GPUBuffer; index: GPUBuffer; rows: number; width: number; out: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'gather', code: gatherWgsl, entryPoint: 'forward' });
  rec.dispatch(k, { src: a.src, index: a.index, out: a.out }, { rows: a.rows, width: a.width }, Math.ceil((a.rows * a.width) / 256));
}

/** dsrc[j,:] = Σ over rows r with index[r] = j of dout[r,:], through the inverse index (see invertIndex). */
export function gatherRowsBackward(
  rt: GpuRuntime, rec: Recorder,
  a: { dOut: GPUBuffer; invStart: GPUBuffer; invList: GPUBuffer; srcRows: number; width: number; dSrc: GPUBuffer },
): void {
  const k = rt.kernel({ label: 'gather', code: gatherWgsl, entryPoint: 'backward' });
  rec.dispatch(k, { src: a.dOut, index: a.invList, inv_start: a.invStart, out: a.dSrc },
    { rows: a.srcRows, width: a.width }, Math.ceil((a.srcRows * a.width) / 256));
}

/** CSR inverse of an index list: rows reading source j are list[start[j] .. start[j+1]). */
export function invertIndex(index: ArrayLike<number>, srcRows: number): { start: Uint32Array; list: Uint32Array } {
  const start = new Uint32Array(srcRows + 1);
  for (let r = 0; r < index.length; r++) {
    const j = index[r];
    if (!(j >= 0 && j < srcRows)) throw new RangeError(`invertIndex: index[${r}] = ${j} is outside 0..${srcRows - 1}`);
    start[j + 1]++;
  }
  for (let j = 0; j < srcRows; j++) start[j + 1] += start[j];
  const fill = start.slice(0, srcRows);
  const list = new Uint32Array(index.length);
  for (let r = 0; r < index.length; r++) list[fill[index[r]]++] = r;
  return { start, list };
}
