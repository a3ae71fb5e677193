import { describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/gpu/device';
import { DeviceLimitError, DeviceLostError, GpuValidationError } from '../../src/gpu/errors';
import { foldGrid, GpuRuntime } from '../../src/gpu/runtime';

describe('device acquisition and runtime errors', () => {
  it('names the limit that is too small', async () => {
    const err = await acquireDevice({
      limits: [{ limit: 'maxStorageBufferBindingSize', min: 2 ** 52, purpose: 'a 10^9-atom test system' }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLimitError);
    expect((err as DeviceLimitError).limit).toBe('maxStorageBufferBindingSize');
    expect((err as Error).message).toMatch(/maxStorageBufferBindingSize.*10\^9-atom test system/);
  });

  it('refuses a pooled buffer larger than one binding may be', async () => {
    const ctx = await acquireDevice();
    const rt = new GpuRuntime(ctx.device);
    const max = ctx.device.limits.maxStorageBufferBindingSize;
    expect(() => rt.buffer('huge', max + 16)).toThrow(DeviceLimitError);
    rt.destroy();
    ctx.destroy();
  });

  it('surfaces a validation error as GpuValidationError and an intentional destroy as such', async () => {
    const ctx = await acquireDevice();
    const rt = new GpuRuntime(ctx.device);
    const k = rt.kernel({
      label: 'copy',
      entryPoint: 'main',
      code: `@group(0) @binding(0) var<storage, read> a: array<f32>;
             @group(0) @binding(1) var<storage, read_write> b: array<f32>;
             @compute @workgroup_size(1) fn main() { b[0] = a[0]; }`,
    });
    const same = rt.buffer('x', 16);
    const rec = rt.recorder('aliasing');
    rec.dispatch(k, { a: same, b: same }, undefined, 1); // read-only and writable in one pass: invalid
    rec.submit();
    await expect(rt.read(rt.buffer('y', 16), 1)).rejects.toBeInstanceOf(GpuValidationError);
    ctx.destroy();
    const lost = await ctx.lost;
    expect(lost.intentional).toBe(true);
    rt.destroy();
  });

  it('folds large dispatches into two dimensions', () => {
    expect(foldGrid(100, 65535)).toEqual([100, 1]);
    expect(foldGrid(65536, 65535)).toEqual([65535, 2]);
    expect(() => foldGrid(65535 * 65535 + 1, 65535)).toThrow(DeviceLimitError);
  });
});

describe('per-kernel limits', () => {
  it('a kernel binding more storage buffers than the device grants fails with DeviceLimitError naming it', async () => {
    const ctx = await acquireDevice();
    const rt = new GpuRuntime(ctx.device);
    const n = ctx.device.limits.maxStorageBuffersPerShaderStage + 1;
    const decls = Array.from({ length: n }, (_, i) => `@group(0) @binding(${i}) var<storage, read_write> b${i}: array<f32>;`).join('\n');
    const body = Array.from({ length: n }, (_, i) => `b${i}[0] = 1.0;`).join(' ');
    const err = (() => {
      try {
        rt.kernel({ label: 'too-wide', entryPoint: 'main', code: `${decls}\n@compute @workgroup_size(1) fn main() { ${body} }` });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(DeviceLimitError);
    expect((err as Error).message).toMatch(/maxStorageBuffersPerShaderStage.*too-wide:main/);
    rt.destroy();
    ctx.destroy();
  });
});

describe('device loss', () => {
  it('after the device is lost, submit and read throw DeviceLostError (intentional for destroy())', async () => {
    const ctx = await acquireDevice();
    const rt = new GpuRuntime(ctx.device);
    const buf = rt.buffer('x', 16);
    ctx.destroy();
    await ctx.lost;
    await new Promise((r) => setTimeout(r, 0));
    const rec = rt.recorder();
    expect(() => rec.submit()).toThrow(DeviceLostError);
    const err = await rt.read(buf, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).intentional).toBe(true);
  });
});
