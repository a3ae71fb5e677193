// Tiled node attention (forward, backward, ERoPE position gradient and virial) vs the float64 CPU oracle,
// on batches of a molecule and a periodic cell, N not a multiple of the tile. The oracle takes the image
// loop for every pair (no minimum-image shortcut), so the kernels' shortcut and its fallback are both
// checked against it: the orthorhombic cell never needs the loop, the skewed one does (rounding alone
// picks a farther image for some pairs there, and the test shows that forcing the shortcut fails).
// Projections come fused (one N×3H q‖k‖v buffer, gradients into one N×3H dq‖dk‖dv) or as three buffers;
// head groups: 2 heads × 16 (one group), 4 × 16 (one group of 4), 4 × 32 (two groups of 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeAttentionCore, nodeAttentionCoreBackward } from '../../src/cpu/nodeAttention';
import { eropeFrequencies } from '../../src/model/architecture';
import { cellFrame, wrapPositions, type Cell } from '../../src/geometry/cell';
import { enumerateImages, imageRepeats, imageTranslations, minimumImageDisplacement, minimumImageMetric } from '../../src/geometry/periodicImages';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { smoothPairMetric, type PairGeometry } from '../../src/cpu/eropeDistance';
import {
  headsPerGroup, nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, packAtoms, packImages,
} from '../../src/gpu/ops/nodeAttention';
import { BIAS_TABLE_RANGE } from '../../src/gpu/ops/eropeBiasTable';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const sizes = [20, 17];
const n = sizes[0] + sizes[1];
const CELLS: Record<string, Float64Array> = {
  triclinic: Float64Array.from([6.1, 0, 0, 0.7, 5.8, 0, -0.5, 0.4, 6.4]),
  orthorhombic: Float64Array.from([6.2, 0, 0, 0, 5.9, 0, 0, 0, 6.6]),
  skewed: Float64Array.from([6, 0, 0, 4.5, 5, 0, -3, 2.5, 6]),
};
const PBC: [boolean, boolean, boolean] = [true, true, true];

function systems(cellName: string, smooth: boolean, spread = 1): PairGeometry[] {
  const cell = f32(CELLS[cellName]);
  const pos0 = randomArray(3 * sizes[0], 11, 4).map((x) => x * spread);
  const pos1 = wrapPositions(f32(randomArray(3 * sizes[1], 12, 3).map((x) => x + 3)), cellFrame(cell, PBC));
  const T = imageTranslations(enumerateImages(imageRepeats({ vectors: cell, pbc: PBC }, 6.0)), cell);
  return [
    { numAtoms: sizes[0], positions: f32(pos0), imageTranslations: new Float64Array(3), numImages: 1 },
    {
      numAtoms: sizes[1], positions: f32(pos1), imageTranslations: f32(T), numImages: T.length / 3,
      smoothMetric: smooth ? smoothPairMetric({ vectors: cell, pbc: PBC }) : null,
    },
  ];
}

/** Pairs of the periodic system where rounding in reduced coordinates is not the nearest image. */
function roundingMisses(g: PairGeometry, cell: Cell): number {
  const m = { ...minimumImageMetric(cell), acceptRadius2: Infinity };
  const p = g.positions, a = new Float64Array(3), b = new Float64Array(3);
  let misses = 0;
  for (let i = 0; i < g.numAtoms; i++)
    for (let j = 0; j < g.numAtoms; j++) {
      const dx = p[3 * j] - p[3 * i], dy = p[3 * j + 1] - p[3 * i + 1], dz = p[3 * j + 2] - p[3 * i + 2];
      const rounded = minimumImageDisplacement(m, g.imageTranslations, g.numImages, dx, dy, dz, a, 0);
      const loop = minimumImageDisplacement(null, g.imageTranslations, g.numImages, dx, dy, dz, b, 0);
      if (rounded > loop * (1 + 1e-6)) misses++;
    }
  return misses;
}

// spread: the molecule's coordinates scaled so that some of its pairs lie beyond the ERoPE bias table (64 Å),
// where the kernels compute the bias directly, and the rest inside it
interface Case { nh: number; d: number; erope: boolean; smooth?: boolean; fused: boolean; cell: string; spread?: number }
const CASES: Case[] = [
  { nh: 2, d: 16, erope: false, fused: false, cell: 'triclinic' },
  { nh: 2, d: 16, erope: true, fused: false, cell: 'triclinic' },
  { nh: 2, d: 16, erope: true, smooth: true, fused: true, cell: 'triclinic' },
  { nh: 4, d: 16, erope: true, fused: true, cell: 'orthorhombic' },
  { nh: 4, d: 32, erope: true, fused: true, cell: 'skewed' },
  { nh: 4, d: 16, erope: true, fused: true, cell: 'orthorhombic', spread: 12 },
];

for (const cs of CASES) {
  const { nh, d } = cs;
  const H = nh * d;
  const name = `${nh} heads × ${d} (${nh / headsPerGroup({ n, numHeads: nh, headDim: d })} group(s)), ${cs.fused ? 'fused q‖k‖v' : 'separate q, k, v'}, ` +
    `ERoPE ${cs.erope ? (cs.smooth ? 'smooth' : 'minimum image') : 'off'}, ${cs.cell} cell${cs.spread ? `, molecule ×${cs.spread} (pairs past the bias table)` : ''}`;
  describe(`node attention kernel: ${name}`, () => {
    it('forward, backward and the ERoPE position/virial gradient match float64', async () => {
      const { rt } = gpu!;
      const sys = systems(cs.cell, !!cs.smooth, cs.spread);
      if (cs.spread) {
        const p = sys[0].positions, r: number[] = [];
        for (let i = 0; i < sizes[0]; i++) for (let j = 0; j < i; j++) r.push(Math.hypot(p[3 * j] - p[3 * i], p[3 * j + 1] - p[3 * i + 1], p[3 * j + 2] - p[3 * i + 2]));
        expect(r.filter((x) => x > BIAS_TABLE_RANGE).length).toBeGreaterThan(20);
        expect(r.filter((x) => x < BIAS_TABLE_RANGE).length).toBeGreaterThan(20);
      }
      const cell = f32(CELLS[cs.cell]);
      const q = f32(randomArray(n * H, 1)), k = f32(randomArray(n * H, 2)), v = f32(randomArray(n * H, 3));
      const dO = f32(randomArray(n * H, 4));
      const omega = eropeFrequencies(32);
      const radialWeight = f32(randomArray(nh * 32, 5, 0.3).map((x) => x + 1 / 32));
      const erope = cs.erope ? { omega, radialWeight } : null;

      // float64 reference, one system at a time, image loop for every pair
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
      if (cs.smooth) {
        // the smooth distance really differs from the minimum image in this 6 Å cell
        const g = systems(cs.cell, false)[1], sl = (a: Float64Array) => a.subarray(sizes[0] * H);
        const minImage = nodeAttentionCore(sl(q), sl(k), sl(v), g.numAtoms, nh, g, erope);
        expect(relErr(minImage, wantO.subarray(sizes[0] * H))).toBeGreaterThan(1e-3);
      }
      if (cs.cell === 'skewed') expect(roundingMisses(sys[1], { vectors: cell, pbc: PBC })).toBeGreaterThan(0);

      const shape = { n, numHeads: nh, headDim: d };
      const positions = new Float64Array(n * 3);
      positions.set(sys[0].positions, 0); positions.set(sys[1].positions, 3 * sizes[0]);
      const systemOfAtom = Array.from({ length: n }, (_, i) => (i < sizes[0] ? 0 : 1));
      const packed = packImages([sys[0].imageTranslations, sys[1].imageTranslations], [null, { vectors: cell, pbc: PBC }]);
      const atoms = rt.upload('t.atoms', packAtoms(positions, systemOfAtom));
      const sz = nodeAttentionGradSizes(shape);

      const run = async (aux: Float32Array) => {
        const geometry = { atoms, aux: rt.upload('t.aux', aux), imagesOffset: packed.imagesOffset, metricOffset: packed.metricOffset, smooth: !!cs.smooth };
        const o = poisoned(rt, 't.o', n * H), stats = poisoned(rt, 't.stats', sz.stats), dOb = upload(rt, 't.dO', dO);
        const geometryGrad = rt.upload('t.geo', new Float32Array(n * 12).fill(0.5)); // accumulated into
        const rec = rt.recorder('node-attention-test');
        let grads: () => Promise<{ dq: Float32Array; dk: Float32Array; dv: Float32Array }>;
        if (cs.fused) {
          const qkv = new Float64Array(n * 3 * H);
          for (let i = 0; i < n; i++) {
            qkv.set(q.subarray(i * H, (i + 1) * H), i * 3 * H);
            qkv.set(k.subarray(i * H, (i + 1) * H), i * 3 * H + H);
            qkv.set(v.subarray(i * H, (i + 1) * H), i * 3 * H + 2 * H);
          }
          const qkvb = upload(rt, 't.qkv', qkv), dQkv = poisoned(rt, 't.dqkv', sz.dQkv);
          nodeAttentionForward(rt, rec, { shape, qkv: qkvb, geometry, erope, o, stats });
          nodeAttentionBackward(rt, rec, { shape, qkv: qkvb, o, dO: dOb, stats, geometry, erope, dQkv, geometryGrad });
          grads = async () => {
            const all = await rt.read(dQkv, n * 3 * H);
            const col = (c0: number) => Float32Array.from({ length: n * H }, (_, e) => all[Math.floor(e / H) * 3 * H + c0 + (e % H)]);
            return { dq: col(0), dk: col(H), dv: col(2 * H) };
          };
        } else {
          const qb = upload(rt, 't.q', q), kb = upload(rt, 't.k', k), vb = upload(rt, 't.v', v);
          const queryGrads = poisoned(rt, 't.qg', sz.queryGrads), keyGrads = poisoned(rt, 't.kg', sz.keyGrads);
          nodeAttentionForward(rt, rec, { shape, q: qb, k: kb, v: vb, geometry, erope, o, stats });
          nodeAttentionBackward(rt, rec, { shape, q: qb, k: kb, v: vb, o, dO: dOb, stats, geometry, erope, queryGrads, keyGrads, geometryGrad });
          grads = async () => {
            const kg = await rt.read(keyGrads, 2 * n * H);
            return { dq: await rt.read(queryGrads, n * H), dk: kg.subarray(0, n * H), dv: kg.subarray(n * H) };
          };
        }
        await rec.submit();
        return { o: await rt.read(o, n * H), ...(await grads()), geo: await rt.read(geometryGrad, n * 12) };
      };

      const got = await run(packed.aux);
      expect(relErr(got.o, wantO)).toBeLessThan(1e-5);
      expect(relErr(got.dq, wantDq)).toBeLessThan(1e-5);
      expect(relErr(got.dk, wantDk)).toBeLessThan(1e-5);
      expect(relErr(got.dv, wantDv)).toBeLessThan(1e-5);
      const grad = new Float64Array(n * 3), virial = new Float64Array(9);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) grad[3 * i + c] = got.geo[12 * i + c] - 0.5;
        for (let c = 0; c < 9; c++) virial[c] += got.geo[12 * i + 3 + c] - 0.5;
      }
      if (cs.erope) {
        expect(relErr(grad, wantGrad)).toBeLessThan(1e-4);
        expect(relErr(virial, wantVirial)).toBeLessThan(1e-4);
      } else {
        expect(Array.from(got.geo).every((x) => x === 0.5)).toBe(true);
      }
      if (cs.cell === 'skewed') {
        // the fallback matters: with the shortcut forced on every pair the forward pass is off
        const forced = Float32Array.from(packed.aux);
        for (let s = 0; s < 2; s++) forced[packed.metricOffset + 28 * s + 24] = 3.4e38;
        expect(relErr((await run(forced)).o, wantO)).toBeGreaterThan(1e-4);
      }
    }, 300_000); // 70-85 s each on SwiftShader with the machine's load at ~20
  });
}
