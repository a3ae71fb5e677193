// Shared set-up for kernel tests: one device per test file, seeded random inputs, poisoned
// outputs (NaN) so an element a kernel forgets to write fails the comparison.
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { GpuRuntime } from '../../src/gpu/runtime';

export interface TestGpu {
  ctx: GpuContext;
  rt: GpuRuntime;
}

export async function setupGpu(): Promise<TestGpu> {
  const ctx = await acquireDevice();
  return { ctx, rt: new GpuRuntime(ctx.device) };
}

export function teardownGpu(g: TestGpu | undefined): void {
  if (!g) return;
  g.rt.destroy();
  g.ctx.destroy();
}

/** Deterministic uniform(-scale, scale) values (mulberry32). */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (2 * u - 1) * scale;
  }
  return out;
}

/** Round to float32 so the float64 reference sees exactly what the GPU sees. */
export function f32(a: Float64Array | number[]): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

/** Pooled buffer of `n` float32 NaNs. */
export function poisoned(rt: GpuRuntime, name: string, n: number): GPUBuffer {
  return rt.upload(name, new Float32Array(n).fill(NaN));
}

export function upload(rt: GpuRuntime, name: string, a: Float64Array | number[]): GPUBuffer {
  return rt.upload(name, Float32Array.from(a));
}

/** ‖got − want‖ / ‖want‖ (NaN anywhere → Infinity). */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length < want.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** Largest |got − want| / (|want| + floor) over elements (NaN → Infinity). */
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    m = Math.max(m, Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + floor));
  }
  return m;
}
