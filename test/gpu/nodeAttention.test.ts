// Tiled node attention (forward, backward, ERoPE position gradient) vs the float64 CPU oracle,
// on a batch of two systems (a molecule and a periodic triclinic cell), N not a multiple of the tile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeAttentionCore, nodeAttentionCoreBackward } from '../../src/cpu/nodeAttention';
import { eropeFrequencies } from '../../src/cpu/features';
import { enumerateImages, imageRepeats, wrapPositions } from '../../src/cpu/graph';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { smoothPairMetric } from '../../src/cpu/eropeDistance';
import { nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, packAtoms, packImages } from '../../src/gpu/ops/nodeAttention';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const nh = 2, d = 16, H = nh * d;
const sizes = [20, 17];
const n = sizes[0] + sizes[1];
const cell = Float64Array.from([6.1, 0, 0, 0.7, 5.8, 0, -0.5, 0.4, 6.4]);

function systems(smooth = false) {
  const pos0 = randomArray(3 * sizes[0], 11, 4);
  const pos1 = wrapPositions(f32(randomArray(3 * sizes[1], 12, 3).map((x) => x + 3)), { vectors: cell, pbc: [true, true, true] });
  const shifts = enumerateImages(imageRepeats({ vectors: cell, pbc: [true, true, true] }, 6.0));
  const T = new Float64Array(shifts.length);
  for (let m = 0; m < shifts.length / 3; m++)
    for (let k = 0; k < 3; k++) T[3 * m + k] = shifts[3 * m] * cell[k] + shifts[3 * m + 1] * cell[3 + k] + shifts[3 * m + 2] * cell[6 + k];
  return [
    { numAtoms: sizes[0], positions: f32(pos0), imageTranslations: new Float64Array(3), numImages: 1 },
    {
      numAtoms: sizes[1], positions: f32(pos1), imageTranslations: f32(T), numImages: T.length / 3,
      smoothMetric: smooth ? smoothPairMetric({ vectors: f32(cell), pbc: [true, true, true] }) : null,
    },
  ];
}

for (const [withErope, smooth] of [[false, false], [true, false], [true, true]]) {
  describe(`node attention kernel, ERoPE ${withErope ? 'on' : 'off'}${smooth ? ', smooth periodic distance' : ''}`, () => {
    it('forward, backward and the ERoPE position/virial gradient match float64', async () => {
      const { rt } = gpu!;
      const sys = systems(smooth);
      const q = f32(randomArray(n * H, 1)), k = f32(randomArray(n * H, 2)), v = f32(randomArray(n * H, 3));
      const dO = f32(randomArray(n * H, 4));
      const omega = eropeFrequencies(32);
      const radialWeight = f32(randomArray(nh * 32, 5, 0.3).map((x) => x + 1 / 32));
      const erope = withErope ? { omega, radialWeight } : null;

      // float64 reference, one system at a time
      const wantO = new Float64Array(n * H), wantDq = new Float64Array(n * H), wantDk = new Float64Array(n * H), wantDv = new Float64Array(n * H);
      const wantGrad = new Float64Array(n * 3);
      const wantVirial = new Float64Array(9);
      let off = 0;
      for (const g of sys) {
        const sl = (a: Float64Array) => a.subarray(off * H, (off + g.numAtoms) * H);
        wantO.set(nodeAttentionCore(sl(q), sl(k), sl(v), g.numAtoms, nh, g, erope), off * H);
        const geo = new GeometryGradient(g.numAtoms);
        const r = nodeAttentionCoreBackward(sl(q), sl(k), sl(v), sl(dO), g.numAtoms, nh, g, erope, geo);
        wantDq.set(r.dq, off * H); wantDk.set(r.dk, off * H); wantDv.set(r.dv, off * H);
        wantGrad.set(geo.gradPositions, off * 3);
        for (let c = 0; c < 9; c++) wantVirial[c] += geo.strain[c];
        off += g.numAtoms;
      }
      if (smooth) {
        // the smooth distance really differs from the minimum image in this 6 Å cell
        const g = systems(false)[1], sl = (a: Float64Array) => a.subarray(sizes[0] * H);
        const minImage = nodeAttentionCore(sl(q), sl(k), sl(v), g.numAtoms, nh, g, erope);
        expect(relErr(minImage, wantO.subarray(sizes[0] * H))).toBeGreaterThan(1e-3);
      }

      const shape = { n, numHeads: nh, headDim: d };
      const positions = new Float64Array(n * 3);
      positions.set(sys[0].positions, 0); positions.set(sys[1].positions, 3 * sizes[0]);
      const systemOfAtom = Array.from({ length: n }, (_, i) => (i < sizes[0] ? 0 : 1));
      const packed = packImages([sys[0].imageTranslations, sys[1].imageTranslations],
        [null, { vectors: f32(cell), pbc: [true, true, true] }]);
      const geometry = {
        atoms: rt.upload('t.atoms', packAtoms(positions, systemOfAtom)),
        aux: rt.upload('t.aux', packed.aux), imagesOffset: packed.imagesOffset, metricOffset: packed.metricOffset, smooth,
      };
      const sz = nodeAttentionGradSizes(shape);
      const bufs = {
        q: upload(rt, 't.q', q), k: upload(rt, 't.k', k), v: upload(rt, 't.v', v), dO: upload(rt, 't.dO', dO),
        o: poisoned(rt, 't.o', n * H), stats: poisoned(rt, 't.stats', sz.stats),
        queryGrads: poisoned(rt, 't.qg', sz.queryGrads), keyGrads: poisoned(rt, 't.kg', sz.keyGrads),
        geometryGrad: rt.upload('t.geo', new Float32Array(n * 12).fill(0.5)), // accumulated into
      };
      const rec = rt.recorder('node-attention-test');
      nodeAttentionForward(rt, rec, { shape, q: bufs.q, k: bufs.k, v: bufs.v, geometry, erope, o: bufs.o, stats: bufs.stats });
      nodeAttentionBackward(rt, rec, { shape, ...bufs, geometry, erope });
      await rec.submit();
      const o = await rt.read(bufs.o, n * H);
      const qg = await rt.read(bufs.queryGrads, n * H);
      const kg = await rt.read(bufs.keyGrads, 2 * n * H);
      const geo = await rt.read(bufs.geometryGrad, n * 12);

      expect(relErr(o, wantO)).toBeLessThan(1e-5);
      expect(relErr(qg, wantDq)).toBeLessThan(1e-5);
      expect(relErr(kg.subarray(0, n * H), wantDk)).toBeLessThan(1e-5);
      expect(relErr(kg.subarray(n * H), wantDv)).toBeLessThan(1e-5);
      const grad = new Float64Array(n * 3), virial = new Float64Array(9);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) grad[3 * i + c] = geo[12 * i + c] - 0.5;
        for (let c = 0; c < 9; c++) virial[c] += geo[12 * i + 3 + c] - 0.5;
      }
      if (withErope) {
        expect(relErr(grad, wantGrad)).toBeLessThan(1e-4);
        expect(relErr(virial, wantVirial)).toBeLessThan(1e-4);
      } else {
        expect(Array.from(geo).every((x) => x === 0.5)).toBe(true);
      }
    });
  });
}
