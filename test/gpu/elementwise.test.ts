import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmsNorm, rmsNormBackward as rmsNormBackwardCpu } from '../../src/cpu/ops';
import { rmsNormBackward, rmsNormForward } from '../../src/gpu/ops/elementwise';
import { scaleAdd } from '../../src/gpu/ops/rows';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

describe('RMSNorm and residual kernels vs float64 reference', () => {
  it('RMSNorm forward and backward (dim 97: not a multiple of the 64-wide reduction)', async () => {
    const { rt } = g;
    const rows = 37, dim = 97, eps = 1.1920929e-7;
    const x = f32(randomArray(rows * dim, 11, 3));
    const w = f32(randomArray(dim, 12, 1.5));
    const dy = f32(randomArray(rows * dim, 13));
    const y = poisoned(rt, 'y', rows * dim);
    const inv = poisoned(rt, 'inv', rows);
    const dx = poisoned(rt, 'dx', rows * dim);
    const xb = upload(rt, 'x', x), wb = upload(rt, 'w', w);
    const rec = rt.recorder();
    rmsNormForward(rt, rec, { x: xb, weight: wb, rows, dim, eps, y, invRms: inv });
    rmsNormBackward(rt, rec, { x: xb, weight: wb, rows, dim, invRms: inv, dy: upload(rt, 'dy', dy), dx });
    rec.submit();
    const ref = rmsNorm(x, rows, dim, w, eps);
    expect(relErr(await rt.read(y, rows * dim), ref.y)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(inv, rows), ref.cache.invRms)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(dx, rows * dim), rmsNormBackwardCpu(dy, rows, dim, w, ref.cache))).toBeLessThan(1e-6);
  });

  it('scaled residual add out = α·a + β·b', async () => {
    const { rt } = g;
    const n = 1000, alpha = 1, beta = 0.3125;
    const a = f32(randomArray(n, 21)), b = f32(randomArray(n, 22));
    const out = poisoned(rt, 'res.out', n);
    const rec = rt.recorder();
    scaleAdd(rt, rec, n, upload(rt, 'res.a', a), upload(rt, 'res.b', b), out, alpha, beta);
    rec.submit();
    expect(relErr(await rt.read(out, n), a.map((v, i) => alpha * v + beta * b[i]))).toBeLessThan(1e-7);
  });
});

describe('bind-group reuse across steps', () => {
  it('a repeated step reuses its bind groups and still reads the new contents of pooled buffers', async () => {
    const { rt } = g;
    const n = 300;
    const out = poisoned(rt, 'reuse.out', n);
    const step = async (seed: number, s: number) => {
      const a = f32(randomArray(n, seed)), b = f32(randomArray(n, seed + 1));
      const rec = rt.recorder();
      scaleAdd(rt, rec, n, upload(rt, 'reuse.a', a), upload(rt, 'reuse.b', b), out, 1, s);
      scaleAdd(rt, rec, n, out, upload(rt, 'reuse.b', b), rt.buffer('reuse.back', 4 * n), 1, -s);
      rec.submit();
      expect(relErr(await rt.read(out, n), a.map((v, i) => v + s * b[i]))).toBeLessThan(1e-7);
      expect(relErr(await rt.read(rt.buffer('reuse.back', 4 * n), n), a)).toBeLessThan(1e-6);
    };
    await step(81, 0.5);
    const groups = rt.cachedBindGroups;
    await step(83, -1.25);
    expect(rt.cachedBindGroups).toBe(groups);
  });
});
