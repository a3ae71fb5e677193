import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gelu, geluBackward, linear, linearBackward, linearGelu, linearGeluBackward, rmsNorm, rmsNormBackward } from '../../src/cpu/ops';
import {
  edgeInputDistanceParts, edgeInputLinearBackward, edgeInputLinearForward, foldNormWeight, linearBackwardInput, linearBackwardInputParts,
  linearForward, linearForwardParts, linearForwardWithSelf, type LinearLayer,
} from '../../src/gpu/ops/linear';
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

  it('RMSNorm fused into the forward (norm weight folded into W): 1/rms per row, pre-activation and GELU output', async () => {
    const { rt } = g;
    const eps = 1.1920928955078125e-7;
    const w = f32(randomArray(inDim, 5, 0.5).map((v) => 1 + v));
    const y = poisoned(rt, 'y', rows * outDim), pre = poisoned(rt, 'pre', rows * outDim), invRms = poisoned(rt, 'inv_rms', rows);
    const folded: LinearLayer = { weight: upload(rt, 'Wfolded', f32(foldNormWeight(W, outDim, w))), bias: upload(rt, 'b', b), inDim, outDim };
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: folded, y, gelu: true, pre, norm: { invRms, eps } });
    rec.submit();
    const normed = rmsNorm(x, rows, inDim, w, eps);
    const ref = linearGelu(normed.y, rows, inDim, W, b, outDim);
    expect(relErr(await rt.read(invRms, rows), normed.cache.invRms)).toBeLessThan(1e-6);
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

  it('input gradient on through the RMSNorm before the layer in the same pass (dense with GELU and residual; q, k, v parts)', async () => {
    const { rt } = g;
    const eps = 1.1920928955078125e-7, ones = new Float64Array(inDim).fill(1);
    const normed = rmsNorm(x, rows, inDim, ones, eps);
    const res = f32(randomArray(rows * inDim, 7));
    const ref = linearGelu(normed.y, rows, inDim, W, b, outDim);
    const wantGelu = rmsNormBackward(linearGeluBackward(dy, ref.pre, rows, inDim, W, outDim), rows, inDim, ones, normed.cache).map((v, i) => v + res[i]);
    const out = 132, cols = out / 3, Wp = W.subarray(0, out * inDim), dyp = dy.subarray(0, rows * out);
    const wantParts = rmsNormBackward(linearBackward(dyp, rows, inDim, Wp, out), rows, inDim, ones, normed.cache);
    const dyParts = Array.from({ length: 3 }, (_, i) => {
      const a = new Float64Array(rows * cols);
      for (let m = 0; m < rows; m++) a.set(dyp.subarray(m * out + i * cols, m * out + (i + 1) * cols), m * cols);
      return upload(rt, `dy${i}`, a);
    });
    const norm = { x: upload(rt, 'x', x), invRms: upload(rt, 'inv_rms', normed.cache.invRms) };
    const dx1 = poisoned(rt, 'dx1', rows * inDim), dx2 = poisoned(rt, 'dx2', rows * inDim);
    const rec = rt.recorder();
    linearBackwardInput(rt, rec, { dy: upload(rt, 'dy', dy), rows, layer: layer(true), dx: dx1, gelu: true, pre: upload(rt, 'pre', ref.pre), norm: { ...norm, residual: upload(rt, 'res', res) } });
    linearBackwardInputParts(rt, rec, { dyParts, rows, layer: { weight: upload(rt, 'Wp', Wp), bias: null, inDim, outDim: out }, dx: dx2, norm });
    rec.submit();
    expect(relErr(await rt.read(dx1, rows * inDim), wantGelu)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(dx2, rows * inDim), wantParts)).toBeLessThan(1e-6);
    // one tile must hold the whole row; the scale would have to go before the norm
    const wide: LinearLayer = { weight: upload(rt, 'Ww', W), bias: null, inDim: 65, outDim: 1 };
    expect(() => linearBackwardInput(rt, rt.recorder(), { dy: dx1, rows, layer: wide, dx: dx2, norm })).toThrow(RangeError);
    expect(() => linearBackwardInput(rt, rt.recorder(), { dy: dx1, rows, layer: layer(true), dx: dx2, norm, scale: 0.5 })).toThrow(RangeError);
  });

  it('per-atom row term broadcast to its slots, its slot-summed input gradient, and y / dy as columns of a wider array', async () => {
    const { rt } = g;
    // rows = 14 atoms × 5 slots; the row term is a per-atom [14, outDim] table added before GELU
    const S = 5, atoms = rows / S;
    const table = f32(randomArray(atoms * outDim, 8));
    const ref = linearGelu(x, rows, inDim, W, b, outDim);
    const pre = ref.pre.map((v, i) => v + table[Math.floor(i / outDim / S) * outDim + (i % outDim)]);
    const y = poisoned(rt, 'y', rows * outDim), preOut = poisoned(rt, 'pre', rows * outDim);
    // ∂/∂(per-atom input) of Σ_slots GELU(...) = Σ_slots (dy ⊙ GELU'(pre))·W over the atom's slots
    const g1 = geluBackward(pre, dy);
    const summed = new Float64Array(atoms * outDim);
    for (let m = 0; m < rows; m++) for (let o = 0; o < outDim; o++) summed[Math.floor(m / S) * outDim + o] += g1[m * outDim + o];
    const wantDx = linearBackward(summed, atoms, inDim, W, outDim);
    const dxAtoms = poisoned(rt, 'dx', atoms * inDim);
    // y written as columns [3, 3 + outDim) of rows outDim + 5 wide; the same layout read back as dy
    const wide = outDim + 5, yWide = rt.upload('ywide', new Float32Array(rows * wide).fill(7));
    const dxWide = poisoned(rt, 'dxwide', rows * inDim);
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y, gelu: true, pre: preOut, rowTerm: { table: upload(rt, 'table', table), slots: S } });
    linearBackwardInput(rt, rec, { dy: upload(rt, 'dy', dy), rows: atoms, layer: layer(true), dx: dxAtoms, gelu: true, pre: preOut, sumSlots: S });
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y: yWide, yCols: { stride: wide, offset: 3 } });
    linearBackwardInput(rt, rec, { dy: yWide, dyCols: { stride: wide, offset: 3 }, rows, layer: layer(true), dx: dxWide });
    rec.submit();
    expect(relErr(await rt.read(preOut, rows * outDim), pre)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(y, rows * outDim), gelu(pre))).toBeLessThan(1e-6);
    expect(relErr(await rt.read(dxAtoms, atoms * inDim), wantDx)).toBeLessThan(1e-6);
    const gotWide = await rt.read(yWide, rows * wide), plain = linear(x, rows, inDim, W, b, outDim);
    for (let m = 0; m < rows; m++) {
      expect([gotWide[m * wide], gotWide[m * wide + 1], gotWide[m * wide + 2], gotWide[m * wide + 3 + outDim]]).toEqual([7, 7, 7, 7]);
    }
    const inner = Float64Array.from({ length: rows * outDim }, (_, i) => gotWide[Math.floor(i / outDim) * wide + 3 + (i % outDim)]);
    expect(relErr(inner, plain)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(dxWide, rows * inDim), linearBackward(inner, rows, inDim, W, outDim))).toBeLessThan(1e-6);
  });

  it('two-pass products: y += s·act(…) (accumulate), slot-0 rows into a node array, dx ⊙ GELU\'(pre of x), one dy row for all', async () => {
    const { rt } = g;
    const K = 5, atoms = rows / K, s = 0.7;
    const res = f32(randomArray(rows * outDim, 9));
    const plain = linear(x, rows, inDim, W, b, outDim);
    const y = upload(rt, 'yacc', res), ySelf = poisoned(rt, 'yself', rows * outDim), node = poisoned(rt, 'node', atoms * outDim);
    // backward: dx = (s·dy·W) ⊙ GELU'(px) with px the pre-activation of x (rows × inDim)
    const px = f32(randomArray(rows * inDim, 10, 2));
    const dxGelu = poisoned(rt, 'dxg', rows * inDim);
    // one dy row (outDim) for every row, with GELU on dy's side
    const dyRow = f32(randomArray(outDim, 11)), preRows = f32(randomArray(rows * outDim, 12, 2));
    const dxRow0 = poisoned(rt, 'dx0', rows * inDim);
    const rec = rt.recorder();
    linearForward(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y, accumulate: s });
    linearForwardWithSelf(rt, rec, { x: upload(rt, 'x', x), rows, layer: layer(true), y: ySelf, residual: { x: upload(rt, 'res', res), scale: s }, slots: K, node });
    linearBackwardInput(rt, rec, { dy: upload(rt, 'dy', dy), rows, layer: layer(true), dx: dxGelu, scale: s, outGelu: upload(rt, 'px', px) });
    linearBackwardInput(rt, rec, { dy: upload(rt, 'dyrow', dyRow), dyRow0: true, rows, layer: layer(true), dx: dxRow0, gelu: true, pre: upload(rt, 'prerows', preRows) });
    rec.submit();
    const want = res.map((v, i) => v + s * plain[i]);
    expect(relErr(await rt.read(y, rows * outDim), want)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(ySelf, rows * outDim), want)).toBeLessThan(1e-6);
    const wantNode = Float64Array.from({ length: atoms * outDim }, (_, i) => want[Math.floor(i / outDim) * K * outDim + (i % outDim)]);
    expect(relErr(await rt.read(node, atoms * outDim), wantNode)).toBeLessThan(1e-6);
    const wantGelu = geluBackward(px, linearBackward(dy, rows, inDim, W, outDim).map((v) => s * v));
    expect(relErr(await rt.read(dxGelu, rows * inDim), wantGelu)).toBeLessThan(1e-6);
    const dyAll = Float64Array.from({ length: rows * outDim }, (_, i) => dyRow[i % outDim]);
    expect(relErr(await rt.read(dxRow0, rows * inDim), linearGeluBackward(dyAll, preRows, rows, inDim, W, outDim))).toBeLessThan(1e-6);
  });

  it('column parts (q, k, v as bindings of their own): RMSNorm + forward into 3 or 2 parts, input gradient from them', async () => {
    const { rt } = g;
    const eps = 1.1920928955078125e-7;
    // 132 outputs: 3 parts of 44 or 2 of 66, neither aligned to the 64-column tile
    const out = 132, Wp = W.subarray(0, out * inDim), bp = b.subarray(0, out);
    const w = f32(randomArray(inDim, 6, 0.5).map((v) => 1 + v));
    const normed = rmsNorm(x, rows, inDim, w, eps);
    const want = linear(normed.y, rows, inDim, Wp, bp, out);
    const dyp = dy.subarray(0, rows * out);
    const wantDx = linearBackward(dyp, rows, inDim, Wp, out);
    for (const P of [3, 2]) {
      const cols = out / P;
      const folded: LinearLayer = { weight: upload(rt, 'Wfolded', f32(foldNormWeight(Wp, out, w))), bias: upload(rt, 'b', bp), inDim, outDim: out };
      const plain: LinearLayer = { weight: upload(rt, 'Wp', Wp), bias: null, inDim, outDim: out };
      const parts = Array.from({ length: P }, (_, i) => poisoned(rt, `part${i}`, rows * cols));
      const dyParts = Array.from({ length: P }, (_, i) => {
        const a = new Float64Array(rows * cols);
        for (let m = 0; m < rows; m++) a.set(dyp.subarray(m * out + i * cols, m * out + (i + 1) * cols), m * cols);
        return upload(rt, `dy${i}`, a);
      });
      const invRms = poisoned(rt, 'inv_rms', rows), dx = poisoned(rt, 'dx', rows * inDim);
      const rec = rt.recorder();
      linearForwardParts(rt, rec, { x: upload(rt, 'x', x), rows, layer: folded, parts, norm: { invRms, eps } });
      linearBackwardInputParts(rt, rec, { dyParts, rows, layer: plain, dx, scale: 0.5 });
      rec.submit();
      expect(relErr(await rt.read(invRms, rows), normed.cache.invRms)).toBeLessThan(1e-6);
      for (let i = 0; i < P; i++) {
        const wantPart = new Float64Array(rows * cols);
        for (let m = 0; m < rows; m++) wantPart.set(want.subarray(m * out + i * cols, m * out + (i + 1) * cols), m * cols);
        expect(relErr(await rt.read(parts[i], rows * cols), wantPart)).toBeLessThan(1e-6);
      }
      expect(relErr(await rt.read(dx, rows * inDim), wantDx.map((v) => 0.5 * v))).toBeLessThan(1e-6);
    }
    // with GELU (its pre-activation not kept): GELU of the same products
    const h = [0, 1].map((i) => poisoned(rt, `h${i}`, rows * (out / 2)));
    const folded2: LinearLayer = { weight: upload(rt, 'Wfolded', f32(foldNormWeight(Wp, out, w))), bias: upload(rt, 'b', bp), inDim, outDim: out };
    const rg = rt.recorder();
    linearForwardParts(rt, rg, { x: upload(rt, 'x', x), rows, layer: folded2, parts: h, norm: { invRms: poisoned(rt, 'inv2', rows), eps }, gelu: true });
    rg.submit();
    const wantGelu = gelu(want);
    for (let i = 0; i < 2; i++) {
      const c2 = out / 2, wantPart = new Float64Array(rows * c2);
      for (let m = 0; m < rows; m++) wantPart.set(wantGelu.subarray(m * out + i * c2, m * out + (i + 1) * c2), m * c2);
      expect(relErr(await rt.read(h[i], rows * c2), wantPart)).toBeLessThan(1e-6);
    }
    expect(() => linearForwardParts(rt, rt.recorder(), { x: upload(rt, 'x', x), rows, layer: layer(true), parts: [poisoned(rt, 'a', 1), poisoned(rt, 'b', 1)] }))
      .toThrow(RangeError);
  });
});

/** Φ(x) for x ≤ -3 without cancellation: erfc(a)/2, a = -x/√2, by erfc's continued fraction. */
function normalCdfLowerTail(x: number): number {
  const a = -x / Math.SQRT2;
  let f = a;
  for (let n = 120; n >= 1; n--) f = a + n / 2 / f;
  return (0.5 * Math.exp(-a * a)) / Math.sqrt(Math.PI) / f;
}

describe('edge-input linear (RBF made on the fly) vs float64 reference', () => {
  // 75 slots (some empty, one self-loop at d = 0), 70 RBFs + 9 SH columns of a 16-wide SH table:
  // 79 input columns = two 64-wide tiles, so ∂E/∂d comes back as two partial sums.
  const slots = 75, R = 70, shStride = 16, shCols = 9, H = 37, cutoff = 6;
  const inDimE = R + shCols;
  const delta = cutoff / (R - 1), coeff = -0.5 / (2 * delta) ** 2;
  const dist = f32(Float64Array.from(randomArray(slots, 11), (v, i) => (i === 3 ? 0 : 3 + 2.9 * v)));
  const empty = (s: number) => s % 7 === 5;
  const sh = f32(Float64Array.from(randomArray(slots * shStride, 12), (v, i) => (empty(Math.floor(i / shStride)) ? 0 : v)));
  const We = f32(randomArray(H * inDimE, 13, 0.3));
  const be = f32(randomArray(H, 14, 0.2));
  const dyE = f32(randomArray(slots * H, 15));
  const gradSh0 = f32(randomArray(slots * shStride, 16));
  const rbf = (s: number, r: number) => (empty(s) ? 0 : Math.exp(coeff * (dist[s] - (cutoff * r) / (R - 1)) ** 2));
  const xE = new Float64Array(slots * inDimE);
  for (let s = 0; s < slots; s++) {
    for (let r = 0; r < R; r++) xE[s * inDimE + r] = rbf(s, r);
    for (let c = 0; c < shCols; c++) xE[s * inDimE + R + c] = sh[s * shStride + c];
  }
  const input = () => {
    const meta = new Int32Array(4 * slots), geom = new Float32Array(4 * slots);
    for (let s = 0; s < slots; s++) { meta[4 * s] = empty(s) ? -1 : s; geom[4 * s + 3] = dist[s]; }
    return {
      slots, slotMeta: g.rt.upload('slotMeta', meta), slotGeom: g.rt.upload('slotGeom', geom), sh: upload(g.rt, 'sh', sh),
      shStride, rbfSize: R, cutoff, rbfCoeff: coeff,
    };
  };
  const layerE = (): LinearLayer => ({ weight: upload(g.rt, 'We', We), bias: upload(g.rt, 'be', be), inDim: inDimE, outDim: H });

  it('forward with GELU equals the dense layer on the explicit [RBF, SH] table', async () => {
    const { rt } = g;
    const y = poisoned(rt, 'y', slots * H), pre = poisoned(rt, 'pre', slots * H);
    const rec = rt.recorder();
    edgeInputLinearForward(rt, rec, { input: input(), layer: layerE(), y, gelu: true, pre });
    rec.submit();
    const ref = linearGelu(xE, slots, inDimE, We, be, H);
    expect(relErr(await rt.read(pre, slots * H), ref.pre)).toBeLessThan(1e-5);
    expect(relErr(await rt.read(y, slots * H), ref.y)).toBeLessThan(1e-5);
  });

  it('backward gives ∂E/∂d per slot (partial sums) and adds ∂E/∂Y into the SH gradient', async () => {
    const { rt } = g;
    const ref = linearGelu(xE, slots, inDimE, We, be, H);
    const dx = linearGeluBackward(dyE, ref.pre, slots, inDimE, We, H);
    const layer = layerE();
    const parts = edgeInputDistanceParts(layer);
    expect(parts).toBe(2);
    const distPart = poisoned(rt, 'distPart', slots * parts);
    const gradSh = upload(rt, 'gradSh', gradSh0);
    const rec = rt.recorder();
    edgeInputLinearBackward(rt, rec, { input: input(), dy: upload(rt, 'dy', dyE), layer, gelu: true, pre: upload(rt, 'pre', ref.pre), gradSh, distPart });
    rec.submit();
    const partsGot = await rt.read(distPart, slots * parts);
    const gotD = Float64Array.from({ length: slots }, (_, s) => partsGot[s * parts] + partsGot[s * parts + 1]);
    const wantD = Float64Array.from({ length: slots }, (_, s) => {
      if (empty(s)) return 0;
      let v = 0;
      for (let r = 0; r < R; r++) v += dx[s * inDimE + r] * 2 * coeff * (dist[s] - (cutoff * r) / (R - 1)) * rbf(s, r);
      return v;
    });
    expect(relErr(gotD, wantD)).toBeLessThan(1e-5);
    const wantSh = Float64Array.from(gradSh0, (v, i) => {
      const s = Math.floor(i / shStride), c = i % shStride;
      return c < shCols && !empty(s) ? v + dx[s * inDimE + R + c] : v; // empty slots have no geometry to update
    });
    expect(relErr(await rt.read(gradSh, slots * shStride), wantSh)).toBeLessThan(1e-5);
  });
});
