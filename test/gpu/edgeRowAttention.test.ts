import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neighborhoodAttentionCore, neighborhoodAttentionCoreBackward, type EdgeLayout } from '../../src/cpu/neighborhoodAttention';
import {
  edgeRowAttentionBackward, edgeRowAttentionForward, packEdgeRows,
} from '../../src/gpu/ops/edgeRowAttention';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

// 37 rows of 1..7 slots (K = 7), H = 32 in 2 heads of 16.
const rows = 37, H = 32, nh = 2, d = H / nh;
const counts = Array.from({ length: rows }, (_, r) => 1 + ((r * 5) % 7));
const rowStart = Int32Array.from([0, ...counts.map((_, r) => counts.slice(0, r + 1).reduce((a, b) => a + b, 0))]);
const E = rowStart[rows];
const q = f32(randomArray(E * H, 41, 1.2)), k = f32(randomArray(E * H, 42, 1.2)), v = f32(randomArray(E * H, 43));
// Envelope biases −x²/(1−x²) are ≤ 0; include strongly suppressed keys.
const keyBias = f32(randomArray(E, 44, 1).map((u) => -4 * u * u));
const dO = f32(randomArray(E * H, 45));

function packQkv(): Float64Array {
  const out = new Float64Array(E * 3 * H);
  for (let e = 0; e < E; e++) {
    out.set(q.subarray(e * H, (e + 1) * H), e * 3 * H);
    out.set(k.subarray(e * H, (e + 1) * H), e * 3 * H + H);
    out.set(v.subarray(e * H, (e + 1) * H), e * 3 * H + 2 * H);
  }
  return out;
}

// Source layout = contiguous rows; destination-like layout = the same edges shuffled across rows.
const shuffled = Int32Array.from({ length: E }, (_, p) => (p * 31 + 7) % E);
const layouts: [string, EdgeLayout][] = [
  ['source (identity) layout', { rowStart, edges: null }],
  ['permuted layout', { rowStart, edges: shuffled }],
];

describe('edge-row (CSR) neighborhood attention kernels vs float64 reference', () => {
  for (const [name, layout] of layouts) {
    it(`forward and backward, ${name}`, async () => {
      const { rt } = g;
      const shape = { slots: E, rows, heads: nh, headDim: d };
      const bufs = {
        shape, qkv: upload(rt, 'qkv', packQkv()), keyBias: upload(rt, 'kb', keyBias),
        layout: rt.upload('layout', packEdgeRows(layout)), o: poisoned(rt, 'o', E * H), stats: poisoned(rt, 'stats', 2 * E * nh),
      };
      const rec = rt.recorder();
      edgeRowAttentionForward(rt, rec, bufs);
      const dq = poisoned(rt, 'dq', E * H), dkv = poisoned(rt, 'dkv', E * 2 * H);
      const kbg = poisoned(rt, 'kbg', E);
      edgeRowAttentionBackward(rt, rec, {
        ...bufs, dO: upload(rt, 'dO', dO), dq, dkv, biasGradHeads: poisoned(rt, 'bgh', E * nh), keyBiasGrad: kbg,
      });
      rec.submit();

      const wantO = neighborhoodAttentionCore(q, k, v, E, nh, layout, keyBias, null);
      const wantKbg = new Float64Array(E);
      const want = neighborhoodAttentionCoreBackward(q, k, v, dO, E, nh, layout, keyBias, null, wantKbg, null);
      expect(relErr(await rt.read(bufs.o, E * H), wantO)).toBeLessThan(1e-5);
      expect(relErr(await rt.read(dq, E * H), want.dq)).toBeLessThan(1e-5);
      const gotKv = await rt.read(dkv, E * 2 * H);
      const gotDk = new Float64Array(E * H), gotDv = new Float64Array(E * H);
      for (let e = 0; e < E; e++) {
        gotDk.set(gotKv.subarray(e * 2 * H, e * 2 * H + H), e * H);
        gotDv.set(gotKv.subarray(e * 2 * H + H, (e + 1) * 2 * H), e * H);
      }
      expect(relErr(gotDk, want.dk)).toBeLessThan(1e-5);
      expect(relErr(gotDv, want.dv)).toBeLessThan(1e-5);
      expect(relErr(await rt.read(kbg, E), wantKbg)).toBeLessThan(1e-5);
    });
  }
});
