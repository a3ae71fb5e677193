// Padded-slot neighborhood attention (shaders/neighborhood_attention, src/gpu/ops/neighborhoodAttention.ts)
// vs the float64 CPU core, on a random symmetric graph with empty slots, in both layouts, LAE off and on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  neighborhoodAttentionCore, neighborhoodAttentionCoreBackward, type AngleEncoding, type EdgeLayout,
} from '../../src/cpu/neighborhoodAttention';
import { laeChannelDegrees } from '../../src/model/architecture';
import { neighborhoodAttentionBackward, neighborhoodAttentionForward } from '../../src/gpu/ops/neighborhoodAttention';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

// 11 atoms × 6 slots; slot 0 is the self-loop, then up to 5 neighbours from a random symmetric
// adjacency; unused slots are empty (key bias −inf). H = 16 in 2 heads of 8.
const N = 11, K = 6, nh = 2, d = 8, H = nh * d, E = N * K, shSize = 25;
function buildGraph() {
  const rnd = randomArray(N * N, 61);
  const nbrs: number[][] = Array.from({ length: N }, () => []);
  for (let a = 0; a < N; a++)
    for (let b = a + 1; b < N; b++)
      if (rnd[a * N + b] > 0.45 && nbrs[a].length < K - 1 && nbrs[b].length < K - 1) { nbrs[a].push(b); nbrs[b].push(a); }
  const meta = new Int32Array(E * 4).fill(-1);
  const slotOf = (a: number, b: number) => a * K + (a === b ? 0 : 1 + nbrs[a].indexOf(b));
  for (let a = 0; a < N; a++) {
    for (const b of [a, ...nbrs[a]]) {
      const e = slotOf(a, b);
      meta.set([a * N + b, b, 0, slotOf(b, a)], 4 * e);
    }
  }
  const bias = f32(randomArray(E, 62).map((u, e) => (meta[4 * e] < 0 ? -Infinity : -3 * u * u)));
  for (let a = 0; a < N; a++) bias[a * K] = 0; // self-loop: envelope 0
  return { meta, bias, nbrs };
}
const graph = buildGraph();
const live = (e: number) => graph.meta[4 * e] >= 0;

function layoutOf(kind: 'src' | 'dst'): EdgeLayout {
  const rowStart = [0];
  const edges: number[] = [];
  for (let row = 0; row < N; row++) {
    for (let r = 0; r < K; r++) {
      const e = row * K + r;
      if (!live(e)) continue;
      edges.push(kind === 'src' ? e : graph.meta[4 * e + 3]);
    }
    rowStart.push(edges.length);
  }
  return { rowStart: Int32Array.from(rowStart), edges: Int32Array.from(edges) };
}

const qkv = f32(randomArray(E * 3 * H, 63, 1.2));
/** The graph's slot key as src/gpu/ops/graph.ts lays it out: (slot read in the dst layout, key bias) per slot. */
function slotKey(): ArrayBuffer {
  const buf = new ArrayBuffer(8 * E), el = new Int32Array(buf), bias = new Float32Array(buf);
  for (let e = 0; e < E; e++) { el[2 * e] = live(e) ? graph.meta[4 * e + 3] : e; bias[2 * e + 1] = graph.bias[e]; }
  return buf;
}
const dO = f32(randomArray(E * H, 64)).map((v, i) => (live(Math.floor(i / H)) ? v : 0));
const sh = f32(randomArray(E * shSize, 65));
const channelDegree = laeChannelDegrees([2, 2, 1, 1, 2]);

function cols(from: number): Float64Array {
  const out = new Float64Array(E * H);
  for (let e = 0; e < E; e++) out.set(qkv.subarray(e * 3 * H + from, e * 3 * H + from + H), e * H);
  return out;
}

describe('padded-slot neighborhood attention vs float64 reference', () => {
  it('the test graph has both empty slots and real neighbours', () => {
    let liveCount = 0;
    for (let e = 0; e < E; e++) if (live(e)) liveCount++;
    expect(liveCount).toBeGreaterThan(2 * N);
    expect(liveCount).toBeLessThan(E);
  });
  for (const layout of ['src', 'dst'] as const) {
    for (const useLae of [false, true]) {
      it(`${layout} layout, LAE ${useLae ? 'on' : 'off'}`, async () => {
        const { rt } = g;
        const lae = useLae ? { sh: upload(rt, 'sh', sh), shSize, channelDegree } : null;
        const q = cols(0), k = cols(H), v = cols(2 * H);
        const base = {
          rows: N, slots: K, numHeads: nh, headDim: d, slotKey: rt.upload('key', new Uint32Array(slotKey())), lae, layout,
          q: upload(rt, 'q', q), k: upload(rt, 'k', k), v: upload(rt, 'v', v),
        };
        const o = poisoned(rt, 'o', E * H);
        const gradBias = rt.upload('gb', new Float32Array(E)), gradSh = rt.upload('gsh', new Float32Array(E * shSize));
        const rec = rt.recorder();
        neighborhoodAttentionForward(rt, rec, { ...base, o });
        // in place: dq, dk, dv replace q, k, v (a slot left unwritten would keep its q, k or v and fail below)
        neighborhoodAttentionBackward(rt, rec, { ...base, dO: upload(rt, 'dO', dO), gradBias, gradSh: useLae ? gradSh : null });
        rec.submit();

        const L = layoutOf(layout);
        const keyBias = graph.bias.map((b) => (Number.isFinite(b) ? b : 0));
        const angle: AngleEncoding | null = useLae ? { channelDegree, maxDegree: 4, sh, shSize } : null;
        const wantO = neighborhoodAttentionCore(q, k, v, E, nh, L, keyBias, angle);
        const wantBias = new Float64Array(E), wantSh = new Float64Array(E * shSize);
        const want = neighborhoodAttentionCoreBackward(q, k, v, dO, E, nh, L, keyBias, angle, wantBias, useLae ? wantSh : null);
        expect(relErr(await rt.read(o, E * H), wantO)).toBeLessThan(1e-5);
        expect(relErr(await rt.read(base.q, E * H), want.dq)).toBeLessThan(1e-5);
        expect(relErr(await rt.read(base.k, E * H), want.dk)).toBeLessThan(1e-5);
        expect(relErr(await rt.read(base.v, E * H), want.dv)).toBeLessThan(1e-5);
        expect(relErr(await rt.read(gradBias, E), wantBias)).toBeLessThan(1e-5);
        if (useLae) expect(relErr(await rt.read(gradSh, E * shSize), wantSh)).toBeLessThan(1e-5);
      });
    }
  }
});
