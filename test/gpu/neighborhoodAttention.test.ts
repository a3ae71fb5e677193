// Neighborhood attention kernel (source and destination layouts, envelope key bias, LAE) vs the
// float64 CPU attention core, on a padded slot layout with empty slots and K not a multiple of anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  laeChannelDegrees, neighborhoodAttentionCore, neighborhoodAttentionCoreBackward, type EdgeLayout,
} from '../../src/cpu/neighborhoodAttention';
import { SphericalHarmonics } from '../../src/cpu/sphericalHarmonics';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward } from '../../src/gpu/ops/neighborhoodAttention';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';
import { rng } from '../helpers/systems';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const nh = 2, d = 16, H = nh * d;
const shSize = 25;

/** A random symmetric graph in the padded layout: self-loop in slot 0, rev(a,r) = slot of b→a in row b. */
function randomGraph(n: number, seed: number) {
  const r = rng(seed);
  const nbrs: number[][] = Array.from({ length: n }, () => []);
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (r() < 0.55) { nbrs[a].push(b); nbrs[b].push(a); }
  for (const l of nbrs) l.sort(() => r() - 0.5);
  const K = Math.max(...nbrs.map((l) => l.length)) + 2; // spare empty slots in every row
  const E = n * K;
  const meta = new Int32Array(E * 4).fill(-1);
  const bias = new Float32Array(E).fill(-Infinity);
  const slotOf = (a: number, b: number) => a * K + 1 + nbrs[a].indexOf(b);
  for (let a = 0; a < n; a++) {
    meta.set([a, a, 0, a * K], 4 * a * K);
    bias[a * K] = 0;
    nbrs[a].forEach((b, i) => {
      const e = a * K + 1 + i;
      meta.set([e, b, 0, slotOf(b, a)], 4 * e);
      const x = r() * 0.9;
      bias[e] = (-x * x) / (1 - x * x);
    });
    for (let s = nbrs[a].length + 1; s < K; s++) meta.set([-1, a, 0, a * K + s], 4 * (a * K + s));
  }
  const srcLayout: EdgeLayout = { rowStart: new Int32Array(n + 1), edges: new Int32Array(E) };
  const dstLayout: EdgeLayout = { rowStart: new Int32Array(n + 1), edges: new Int32Array(E) };
  let fill = 0;
  for (let a = 0; a < n; a++) {
    for (let s = 0; s <= nbrs[a].length; s++) srcLayout.edges![fill++] = a * K + s;
    srcLayout.rowStart[a + 1] = fill;
  }
  fill = 0;
  for (let b = 0; b < n; b++) {
    for (let s = 0; s <= nbrs[b].length; s++) dstLayout.edges![fill++] = meta[4 * (b * K + s) + 3];
    dstLayout.rowStart[b + 1] = fill;
  }
  // unit directions per slot (the self-loop has none) and their SH up to l = 4
  const sh = new Float64Array(E * shSize);
  const table = new SphericalHarmonics(4);
  const y = new Float64Array(shSize);
  for (let e = 0; e < E; e++) {
    const u = [r() - 0.5, r() - 0.5, r() - 0.5];
    const len = Math.hypot(u[0], u[1], u[2]);
    if (e % K === 0) table.evaluate(0, 0, 0, y); else table.evaluate(u[0] / len, u[1] / len, u[2] / len, y);
    sh.set(y, e * shSize);
  }
  return { n, K, E, meta, bias, srcLayout, dstLayout, sh: f32(sh), valid: Array.from({ length: E }, (_, e) => bias[e] > -Infinity) };
}

const pick = (a: ArrayLike<number>, valid: boolean[], width: number) =>
  Float64Array.from(valid.flatMap((v, e) => (v ? Array.from({ length: width }, (_, c) => a[e * width + c]) : [])));

for (const layout of ['src', 'dst'] as const) {
  for (const withLae of [false, true]) {
    describe(`neighborhood attention kernel, ${layout} layout, LAE ${withLae ? 'on' : 'off'}`, () => {
      it('forward and backward (dq, dk, dv, key-bias and SH gradients) match float64', async () => {
        const { rt } = gpu!;
        const g = randomGraph(9, layout === 'src' ? 3 : 4);
        const { E } = g;
        const qkv = f32(randomArray(E * 3 * H, 21));
        const dO = f32(randomArray(E * H, 22));
        const split = (part: number) => Float64Array.from({ length: E * H }, (_, i) => qkv[Math.floor(i / H) * 3 * H + part * H + (i % H)]);
        const q = split(0), k = split(1), v = split(2);
        const freq = [6, 4, 2, 2, 2];
        const cpuLae = withLae ? { channelDegree: laeChannelDegrees(freq), maxDegree: 4, sh: g.sh, shSize } : null;
        const cpuLayout = layout === 'src' ? g.srcLayout : g.dstLayout;
        const bias64 = Float64Array.from(g.bias);
        const wantO = neighborhoodAttentionCore(q, k, v, E, nh, cpuLayout, bias64, cpuLae);
        const wantBias = new Float64Array(E);
        const wantSh = new Float64Array(E * shSize);
        const { dq, dk, dv } = neighborhoodAttentionCoreBackward(q, k, v, dO, E, nh, cpuLayout, bias64, cpuLae, wantBias, wantSh);

        const args = {
          rows: g.n, slots: g.K, numHeads: nh, headDim: d, layout,
          qkv: upload(rt, 'na.qkv', qkv), slotMeta: rt.upload('na.meta', g.meta), slotBias: rt.upload('na.bias', g.bias),
          lae: withLae ? { sh: upload(rt, 'na.sh', g.sh), shSize, channelDegree: laeChannelDegrees(freq) } : null,
        };
        const o = poisoned(rt, 'na.o', E * H);
        const dQkv = poisoned(rt, 'na.dqkv', E * 3 * H);
        // accumulators start from a known non-zero value: the kernel must add, not overwrite
        const gradBias = rt.upload('na.gbias', new Float32Array(E).fill(0.25));
        const gradSh = rt.upload('na.gsh', new Float32Array(E * shSize).fill(0.5));
        const rec = rt.recorder('nbhd-test');
        neighborhoodAttentionForward(rt, rec, { ...args, o });
        neighborhoodAttentionBackward(rt, rec, { ...args, dO: upload(rt, 'na.dO', dO), dQkv, gradBias, gradSh });
        await rec.submit();
        const gotO = await rt.read(o, E * H);
        const gotD = await rt.read(dQkv, E * 3 * H);
        const gotBias = await rt.read(gradBias, E);
        const gotSh = await rt.read(gradSh, E * shSize);

        const valid = g.valid;
        expect(relErr(pick(gotO, valid, H), pick(wantO, valid, H))).toBeLessThan(1e-5);
        const wantD = new Float64Array(E * 3 * H);
        for (let e = 0; e < E; e++)
          for (let c = 0; c < H; c++) {
            wantD[e * 3 * H + c] = dq[e * H + c]; wantD[e * 3 * H + H + c] = dk[e * H + c]; wantD[e * 3 * H + 2 * H + c] = dv[e * H + c];
          }
        expect(relErr(pick(gotD, valid, 3 * H), pick(wantD, valid, 3 * H))).toBeLessThan(1e-5);
        expect(relErr(pick(gotBias, valid, 1).map((x) => x - 0.25), pick(wantBias, valid, 1))).toBeLessThan(1e-5);
        if (withLae) expect(relErr(pick(gotSh, valid, shSize).map((x) => x - 0.5), pick(wantSh, valid, shSize))).toBeLessThan(1e-5);
        else expect(Array.from(gotSh).every((x) => x === 0.5)).toBe(true);
        // empty slots give zero output
        expect(gotO.filter((_, i) => !valid[Math.floor(i / H)]).every((x) => x === 0)).toBe(true);
      });
    });
  }
}
