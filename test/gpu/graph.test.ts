// Neighbor graph kernels vs the float64 CPU graph: candidates, soft ranks, envelope, slot
// layout, reverse-slot map and the by-neighbor index, on a free cluster, a periodic triclinic
// cell and a dense cluster where truncation is active. Outputs are poisoned with NaN first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeBias, type NeighborGraph } from '../../src/cpu/graph';
import { checkGraphStatus, planGraph, recordSlotPermute, type NeighborSearch, readGraphStatus, recordGraphBuild, SlotBudgetError, type GpuGraph } from '../../src/gpu/ops/graph';
import { OverlappingAtomsError } from '../../src/model/systemCheck';
import { setupGpu, teardownGpu, upload, type TestGpu } from './helpers';
import { cellListCases, cpuGraph, goldenGraphCases, graphCases, maxEdgesPerRow, type GraphCase } from './graphSystems';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

function poison(buffers: GPUBuffer[]): void {
  for (const b of buffers) g.rt.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(NaN));
}

async function build(c: GraphCase, slots: number, search: NeighborSearch = 'cells'): Promise<GpuGraph> {
  const n = c.positions.length / 3;
  const gg = planGraph(g.rt, c.arch, n, c.gpuCell, slots, search);
  poison([gg.positions, gg.candMeta, gg.candGeom, gg.candRank, gg.candEnv, gg.candRev, gg.candSlot, gg.counts,
    gg.slotMeta, gg.slotGeom, gg.slotEnv, gg.slotKey, gg.status, gg.inverse]);
  const rec = g.rt.recorder('graph-test');
  recordGraphBuild(g.rt, rec, gg, upload(g.rt, 'test.positions', c.positions));
  await rec.submit();
  return gg;
}

async function readF32(b: GPUBuffer, n: number): Promise<Float32Array> { return g.rt.read(b, n); }
async function readI32(b: GPUBuffer, n: number): Promise<Int32Array> { const f = await g.rt.read(b, n); return new Int32Array(f.buffer, 0, n); }

/** Row a's slot r ↔ CPU edge edgeRowStart[a] + r; the reverse edge's slot in its own row. */
function reverseSlot(cg: NeighborGraph, e: number, K: number): number {
  const rc = cg.edgeReverseCand[e];
  const a = cg.edgeCenter[e];
  if (rc < 0) return a * K;
  const b = cg.edgeNeighbor[e];
  for (let f = cg.edgeRowStart[b]; f < cg.edgeRowStart[b + 1]; f++) if (cg.edgeCand[f] === rc) return b * K + f - cg.edgeRowStart[b];
  throw new Error(`CPU graph: reverse of edge ${e} is not an edge`);
}

describe('neighbor graph kernels vs float64 CPU graph', () => {
  for (const c of [...graphCases(), ...goldenGraphCases(), ...cellListCases()]) for (const search of ['cells', 'all-pairs'] as const) {
    it(`${c.name}, ${search}`, async () => {
      const cg = cpuGraph(c);
      const n = cg.numAtoms;
      const K = maxEdgesPerRow(cg) + 2; // two spare slots exercise the empty-slot fill
      const gg = await build(c, K, search);
      expect(gg.numImages).toBe(cg.numImages);

      const status = await readGraphStatus(g.rt, gg);
      let maxCand = 0;
      for (let a = 0; a < n; a++) maxCand = Math.max(maxCand, cg.candRowStart[a + 1] - cg.candRowStart[a]);
      expect(status.maxEdges).toBe(maxEdgesPerRow(cg));
      expect(status.maxCandidates).toBe(maxCand);
      expect(status.overlap).toBeNull();
      expect(status.overflowRows).toBe(0);
      expect(status.nonFiniteAtom).toBeNull();
      if (c.name.includes('truncation')) expect(status.maxWithinReach).toBeGreaterThan(c.arch.knn_candidates);

      // wrapped positions
      const pos = await readF32(gg.positions, 3 * n);
      for (let i = 0; i < 3 * n; i++) expect(Math.abs(pos[i] - cg.positions[i])).toBeLessThan(2e-5);

      // candidates: same neighbors/images in the same order, distances and soft ranks
      const counts = await readI32(gg.counts, 4 * n);
      const candMeta = await readI32(gg.candMeta, 2 * n * gg.kc);
      const candGeom = await readF32(gg.candGeom, 4 * n * gg.kc);
      const candRank = await readF32(gg.candRank, n * gg.kc);
      let rankErr = 0, distErr = 0;
      for (let a = 0; a < n; a++) {
        const c0 = cg.candRowStart[a], nc = cg.candRowStart[a + 1] - c0;
        expect(counts[4 * a]).toBe(nc);
        for (let i = 0; i < nc; i++) {
          const gi = a * gg.kc + i;
          expect([candMeta[2 * gi], candMeta[2 * gi + 1]]).toEqual([cg.candNeighbor[c0 + i], cg.candImage[c0 + i]]);
          distErr = Math.max(distErr, Math.abs(candGeom[4 * gi + 3] - cg.candDist[c0 + i]));
          rankErr = Math.max(rankErr, Math.abs(candRank[gi] - cg.candRank[c0 + i]) / Math.max(1, cg.candRank[c0 + i]));
        }
      }
      expect(distErr).toBeLessThan(2e-5);
      expect(rankErr).toBeLessThan(2e-5);

      // slots: edge set and order, geometry, envelope, bias, reverse map, empty slots
      const meta = await readI32(gg.slotMeta, 4 * n * K);
      const geom = await readF32(gg.slotGeom, 4 * n * K);
      const env = await readF32(gg.slotEnv, 4 * n * K);
      // slot key: (slot read in the destination layout, key bias) per slot
      const key = await readF32(gg.slotKey, 2 * n * K), keySlot = new Int32Array(key.buffer, key.byteOffset, 2 * n * K);
      const bias = Float32Array.from({ length: n * K }, (_, s) => key[2 * s + 1]);
      const { bias: cpuBias, dBiasDx } = envelopeBias(cg);
      let xErr = 0, wErr = 0, biasErr = 0, dispErr = 0;
      for (let a = 0; a < n; a++) {
        const e0 = cg.edgeRowStart[a], ne = cg.edgeRowStart[a + 1] - e0;
        expect(counts[4 * a + 1]).toBe(ne);
        for (let r = 0; r < K; r++) {
          const s = a * K + r;
          if (r >= ne) {
            expect(meta[4 * s]).toBe(-1);
            expect(meta[4 * s + 3]).toBe(-1);
            expect(bias[s]).toBe(-Infinity);
            expect(keySlot[2 * s]).toBe(s);
            continue;
          }
          const e = e0 + r;
          const cand = cg.edgeCand[e];
          expect([meta[4 * s + 1], meta[4 * s + 2]]).toEqual([cg.edgeNeighbor[e], cg.candImage[cand]]);
          expect(meta[4 * s]).toBe(a * gg.kc + cand - cg.candRowStart[a]);
          expect(meta[4 * s + 3]).toBe(reverseSlot(cg, e, K));
          expect(keySlot[2 * s]).toBe(meta[4 * s + 3]);
          for (let q = 0; q < 3; q++) dispErr = Math.max(dispErr, Math.abs(geom[4 * s + q] - cg.candDisp[3 * cand + q]));
          xErr = Math.max(xErr, Math.abs(env[4 * s] - cg.edgeEnv[e]));
          for (let q = 0; q < 3; q++) wErr = Math.max(wErr, Math.abs(env[4 * s + 1 + q] - cg.edgeLseWeights[3 * e + q]));
          // −x²/(1−x²) amplifies the float32 error of x by |∂bias/∂x| near x = 1: allow for it
          biasErr = Math.max(biasErr, Math.abs(bias[s] - cpuBias[e]) / (1e-5 * (1 + Math.abs(cpuBias[e])) + 3e-6 * Math.abs(dBiasDx[e])));
        }
      }
      console.log(`${c.name}, ${search}: cells ${gg.maxCells}, edges ${cg.edgeEnv.length}, K ${K}, images ${gg.numImages}, max|Δd| ${distErr.toExponential(2)}, ` +
        `rank ${rankErr.toExponential(2)}, x ${xErr.toExponential(2)}, w ${wErr.toExponential(2)}, bias err/allowance ${biasErr.toFixed(3)}`);
      expect(dispErr).toBeLessThan(2e-5);
      expect(xErr).toBeLessThan(1e-5);
      expect(wErr).toBeLessThan(1e-5);
      expect(biasErr).toBeLessThan(1);

      // the reverse map is an involution; permuting a per-slot table twice gives it back
      for (let s = 0; s < n * K; s++) if (meta[4 * s] >= 0) expect(meta[4 * meta[4 * s + 3] + 3]).toBe(s);
      const W = 3;
      const table = Float32Array.from({ length: n * K * W }, (_, i) => (i % 97) - 40.5);
      const once = g.rt.buffer('test.permuted', n * K * W * 4), twice = g.rt.buffer('test.permuted2', n * K * W * 4);
      poison([once, twice]);
      const rp = g.rt.recorder('permute-test');
      recordSlotPermute(g.rt, rp, gg, { input: g.rt.upload('test.table', table), output: once, width: W });
      recordSlotPermute(g.rt, rp, gg, { input: once, output: twice, width: W });
      await rp.submit();
      const p1 = await readF32(once, n * K * W), p2 = await readF32(twice, n * K * W);
      for (let s = 0; s < n * K; s++)
        for (let q = 0; q < W; q++) {
          const valid = meta[4 * s] >= 0;
          expect(p1[s * W + q]).toBe(valid ? table[meta[4 * s + 3] * W + q] : 0);
          expect(p2[s * W + q]).toBe(valid ? table[s * W + q] : 0);
        }

      // deterministic: a second build gives the same bits
      await build(c, K, search);
      expect(Array.from(await readI32(gg.slotMeta, 4 * n * K))).toEqual(Array.from(meta));
      expect(Array.from(await readF32(gg.slotEnv, 4 * n * K))).toEqual(Array.from(env));

      // by-neighbor index: every kept candidate once, grouped by neighbor, ascending
      const C = n * gg.kc;
      const inv = await readI32(gg.inverse, n + 1 + C);
      let total = 0;
      for (let a = 0; a < n; a++) total += counts[4 * a];
      expect(inv[n]).toBe(total);
      const seen = new Set<number>();
      for (let b = 0; b < n; b++) {
        for (let k = inv[b]; k < inv[b + 1]; k++) {
          const cand = inv[n + 1 + k];
          expect(candMeta[2 * cand]).toBe(b);
          if (k > inv[b]) expect(cand).toBeGreaterThan(inv[n + 1 + k - 1]);
          seen.add(cand);
        }
      }
      expect(seen.size).toBe(total);
    });
  }

  it('reports an exhausted slot budget, overlapping atoms and non-finite positions', async () => {
    const c = graphCases()[0];
    const gg = await build(c, 3);
    const status = await readGraphStatus(g.rt, gg);
    expect(status.overflowRows).toBeGreaterThan(0);
    expect(() => checkGraphStatus(status, gg)).toThrow(SlotBudgetError);

    const pos = Float64Array.from(c.positions);
    pos.set(pos.subarray(3 * 4, 3 * 5), 3 * 9); // atom 9 onto atom 4
    const gg2 = await build({ ...c, positions: pos }, 12);
    const st2 = await readGraphStatus(g.rt, gg2);
    expect(st2.overlap).toEqual([4, 9]);
    expect(() => checkGraphStatus(st2, gg2)).toThrow(OverlappingAtomsError);

    for (const bad of [NaN, Infinity]) {
      const p3 = Float64Array.from(c.positions);
      p3[3 * 7 + 1] = bad;
      p3[3 * 12] = bad;
      const gg3 = await build({ ...c, positions: p3 }, 12);
      const st3 = await readGraphStatus(g.rt, gg3);
      expect(st3.nonFiniteAtom).toBe(7);
      expect(() => checkGraphStatus(st3, gg3)).toThrow(/atom 7 has a non-finite coordinate/);
    }
  });
});
