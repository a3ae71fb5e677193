import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmsNorm, rmsNormBackward as rmsNormBackwardCpu } from '../../src/cpu/ops';
import {
  gatherRows, gatherRowsBackward, invertIndex, rmsNormBackward, rmsNormForward, scaledAdd,
} from '../../src/gpu/ops/elementwise';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

describe('RMSNorm, residual and gather kernels vs float64 reference', () => {
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

  it('scaled residual add', async () => {
    const { rt } = g;
    const n = 1000, s = 0.3125;
    const a = f32(randomArray(n, 21)), b = f32(randomArray(n, 22));
    const out = poisoned(rt, 'out', n);
    const rec = rt.recorder();
    scaledAdd(rt, rec, { base: upload(rt, 'a', a), branch: upload(rt, 'b', b), scale: s, count: n, out });
    rec.submit();
    expect(relErr(await rt.read(out, n), a.map((v, i) => v + s * b[i]))).toBeLessThan(1e-7);
  });

  it('row gather and its inverse-index backward equal the dense transpose', async () => {
    const { rt } = g;
    // 53 output rows read 19 source rows, some many times, one (row 18) never.
    const srcRows = 19, rows = 53, width = 7;
    const index = Uint32Array.from({ length: rows }, (_, r) => (r * 7 + (r % 3)) % (srcRows - 1));
    const src = f32(randomArray(srcRows * width, 31));
    const dOut = f32(randomArray(rows * width, 32));
    const inv = invertIndex(index, srcRows);
    const out = poisoned(rt, 'out', rows * width);
    const dSrc = poisoned(rt, 'dsrc', srcRows * width);
    const rec = rt.recorder();
    gatherRows(rt, rec, { src: upload(rt, 'src', src), index: rt.upload('idx', index), rows, width, out });
    gatherRowsBackward(rt, rec, {
      dOut: upload(rt, 'dout', dOut), invStart: rt.upload('is', inv.start), invList: rt.upload('il', inv.list),
      srcRows, width, dSrc,
    });
    rec.submit();
    const wantOut = new Float64Array(rows * width);
    const wantDSrc = new Float64Array(srcRows * width);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < width; c++) {
        wantOut[r * width + c] = src[index[r] * width + c];
        wantDSrc[index[r] * width + c] += dOut[r * width + c];
      }
    }
    expect(relErr(await rt.read(out, rows * width), wantOut)).toBe(0);
    expect(relErr(await rt.read(dSrc, srcRows * width), wantDSrc)).toBeLessThan(1e-7);
  });

  it('invertIndex rejects an index outside the source', () => {
    expect(() => invertIndex([0, 5], 3)).toThrow(/index\[1\] = 5/);
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
      scaledAdd(rt, rec, { base: upload(rt, 'reuse.a', a), branch: upload(rt, 'reuse.b', b), scale: s, count: n, out });
      scaledAdd(rt, rec, { base: out, branch: upload(rt, 'reuse.b', b), scale: -s, count: n, out: rt.buffer('reuse.back', 4 * n) });
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
