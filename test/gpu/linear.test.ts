import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gelu, linear, linearBackward, linearGelu, linearGeluBackward } from '../../src/cpu/ops';
import { linearBackwardInput, linearForward, type LinearLayer } from '../../src/gpu/ops/linear';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

// 70 rows × 45 in × 133 out: none is a multiple of the 64×64 tile or the 16-deep k chunk.
const rows = 70, inDim = 45, outDim = 133;
const x = f32(randomArray(rows * inDim, 1, 2));
const W = f32(randomArray(outDim * inDim, 2, 0.4));
const b = f32(randomArray(outDim, 3, 0.5));
const dy = f32(randomArray(rows * outDim, 4));

function layer(withBias: boolean): LinearLayer {
  return { weight: upload(g.rt, 'W', W), bias: withBias ? upload(g.rt, 'b', b) : null, inDim, outDim };
}

describe('linear kernels vs float64 reference', () => {
  it('forward with bias, no activation', async () => {
    const { rt } = g;
    const y = poisoned(rt, 'y', rows * outDim);
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y });
    rec.submit();
    const got = await rt.read(y, rows * outDim);
    expect(relErr(got, linear(x, rows, inDim, W, b, outDim))).toBeLessThan(1e-6);
  });

  it('forward fused bias + GELU keeps the pre-activation', async () => {
    const { rt } = g;
    const y = poisoned(rt, 'y', rows * outDim);
    const pre = poisoned(rt, 'pre', rows * outDim);
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y, gelu: true, pre });
    rec.submit();
    const ref = linearGelu(x, rows, inDim, W, b, outDim);
    expect(relErr(await rt.read(pre, rows * outDim), ref.pre)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(y, rows * outDim), ref.y)).toBeLessThan(1e-6);
  });

  it('GELU is float32-accurate in both tails', async () => {
    // A 1×1 "layer" with weight 1 applies GELU to each row's single input.
    const { rt } = g;
    const xs = f32(Array.from({ length: 301 }, (_, i) => -15 + i * 0.1));
    const n = xs.length;
    const y = poisoned(rt, 'y', n);
    const pre = poisoned(rt, 'pre', n);
    const one: LinearLayer = { weight: upload(rt, 'W1', [1]), bias: null, inDim: 1, outDim: 1 };
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', xs), rows: n, layer: one, y, gelu: true, pre });
    rec.submit();
    // relative to |GELU| with a tiny floor: exact-erf GELU at x = -15 is ~1e-50 (flushes to 0 in f32)
    // ops.gelu computes 1 + erf(x/√2), which cancels for x < -5 even in float64; the test's
    // reference uses erfc's continued fraction there so the tail is checked, not just the bulk.
    const want = gelu(xs).map((v, i) => (xs[i] < -4 ? xs[i] * normalCdfLowerTail(xs[i]) : v));
    // Float32 rounding of the exponent -x²/2 alone gives a relative error ~x²·6e-8 in the tail,
    // so the bound grows with x²; near the bulk it is 2e-6. Values below 1e-32 are irrelevant.
    const got = await rt.read(y, n);
    for (let i = 0; i < n; i++) {
      const tol = (2e-6 + 2e-7 * xs[i] * xs[i]) * Math.abs(want[i]) + 1e-32;
      expect(Math.abs(got[i] - want[i]), `GELU(${xs[i]})`).toBeLessThanOrEqual(tol);
    }
  });

  it('input gradient without and with GELU', async () => {
    const { rt } = g;
    for (const useGelu of [false, true]) {
      const ref = linearGelu(x, rows, inDim, W, b, outDim);
      const dx = poisoned(rt, 'dx', rows * inDim);
      const rec = rt.recorder();
      const pre = upload(rt, 'pre', ref.pre);
      linearBackwardInput(rt, rec, { dy: upload(rt, 'dy', dy), rows, layer: layer(true), dx, gelu: useGelu, pre });
      rec.submit();
      const want = useGelu ? linearGeluBackward(dy, ref.pre, rows, inDim, W, outDim) : linearBackward(dy, rows, inDim, W, outDim);
      expect(relErr(await rt.read(dx, rows * inDim), want)).toBeLessThan(1e-6);
    }
  });
});

/** Φ(x) for x ≤ -3 without cancellation: erfc(a)/2, a = -x/√2, by erfc's continued fraction. */
function normalCdfLowerTail(x: number): number {
  const a = -x / Math.SQRT2;
  let f = a;
  for (let n = 120; n >= 1; n--) f = a + n / 2 / f;
  return (0.5 * Math.exp(-a * a)) / Math.sqrt(Math.PI) / f;
}
