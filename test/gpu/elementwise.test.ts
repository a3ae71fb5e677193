import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmsNorm, rmsNormBackward as rmsNormBackwardCpu } from '../../src/cpu/ops';
import { rmsNormBackward, rmsNormForward } from '../../src/gpu/ops/elementwise';
import { placeSelf, scaleAdd, splitSelf, sumRowsDot, zero3 } from '../../src/gpu/ops/rows';
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
  it('self-slot glue (split_self, place_self), zero3 and the energy sum Σ_i (a_i·w + b)', async () => {
    const { rt } = g;
    // 7 atoms × 3 slots × 5 columns; slot 0 of each atom is its node state
    const n = 7, K = 3, H = 5, E = n * K;
    const x = f32(randomArray(E * H, 31)), node = f32(randomArray(n * H, 32));
    const edge = poisoned(rt, 'edge', E * H), nodeOut = poisoned(rt, 'node', n * H), placed = poisoned(rt, 'placed', E * H);
    const z = [poisoned(rt, 'z1', 5), poisoned(rt, 'z2', 300), poisoned(rt, 'z3', 17)];
    const a = f32(randomArray(n * 4, 33)), w = f32(randomArray(4, 34)), out = poisoned(rt, 'sum', 1), outNoBias = poisoned(rt, 'sum0', 1);
    const rec = rt.recorder();
    splitSelf(rt, rec, E, H, K, upload(rt, 'x', x), edge, nodeOut);
    placeSelf(rt, rec, E, H, K, upload(rt, 'n', node), placed);
    zero3(rt, rec, [z[0], 5], [z[1], 300], [z[2], 17]);
    sumRowsDot(rt, rec, n, 4, upload(rt, 'a', a), upload(rt, 'w', w), upload(rt, 'b', [0.25]), out);
    sumRowsDot(rt, rec, n, 4, upload(rt, 'a', a), upload(rt, 'w', w), null, outNoBias);
    rec.submit();
    const wantEdge = x.map((v, i) => (Math.floor(i / H) % K === 0 ? 0 : v));
    const wantNode = Float64Array.from({ length: n * H }, (_, i) => x[Math.floor(i / H) * K * H + (i % H)]);
    const wantPlaced = Float64Array.from({ length: E * H }, (_, i) => (Math.floor(i / H) % K === 0 ? node[Math.floor(i / H / K) * H + (i % H)] : 0));
    expect(Array.from(await rt.read(edge, E * H))).toEqual(Array.from(Float32Array.from(wantEdge)));
    expect(Array.from(await rt.read(nodeOut, n * H))).toEqual(Array.from(Float32Array.from(wantNode)));
    expect(Array.from(await rt.read(placed, E * H))).toEqual(Array.from(Float32Array.from(wantPlaced)));
    for (const [i, len] of [5, 300, 17].entries()) expect(Array.from(await rt.read(z[i], len)).every((v) => v === 0)).toBe(true);
    let want = 0;
    for (let i = 0; i < n; i++) { let e = 0.25; for (let c = 0; c < 4; c++) e += a[4 * i + c] * w[c]; want += e; }
    expect(Math.abs((await rt.read(out, 1))[0] - want)).toBeLessThan(1e-5 * (1 + Math.abs(want)));
    expect(Math.abs((await rt.read(outNoBias, 1))[0] - (want - 0.25 * n))).toBeLessThan(1e-5 * (1 + Math.abs(want)));
  });

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
