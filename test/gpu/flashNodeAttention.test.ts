import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PairGeometry } from '../../src/cpu/features';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { nodeAttentionCore, nodeAttentionCoreBackward, type Erope } from '../../src/cpu/nodeAttention';
import { flashNodeAttentionBackward, flashNodeAttentionForward, packGeometry, packSystems } from '../../src/gpu/ops/flashNodeAttention';
import { f32, poisoned, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

// Two systems, 50 + 47 = 97 atoms: two 64-query tiles, the first straddling the system boundary,
// key tiles of 16 that do not divide either system. H = 32 in 2 heads.
const sizes = [50, 47];
const sysStart = [0, 50, 97];
const N = 97, H = 32, nh = 2, d = 16, nf = 8;
// System 0 periodic in a 7 Å cube (27 images), system 1 a molecule (the zero image only).
const L = 7;
const images: number[] = [];
for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let c = -1; c <= 1; c++) images.push(a * L, b * L, c * L);
images.push(0, 0, 0);
const imageStart = [0, 27, 28];
const positions = f32(randomArray(N * 3, 51, 1).map((u) => (u + 1) * 0.5 * L));
const omega = f32(Array.from({ length: nf }, (_, f) => (Math.PI / 120) * Math.pow(12.566 / (Math.PI / 120), f / (nf - 1))));
const radialWeight = f32(randomArray(nh * nf, 52, 0.8));
const qkv = f32(randomArray(N * 3 * H, 53, 1.5));
const dO = f32(randomArray(N * H, 54));

/** Columns [from, from+H) of the packed [q|k|v] rows of atoms lo..hi. */
function part(lo: number, hi: number, from: number): Float64Array {
  const out = new Float64Array((hi - lo) * H);
  for (let i = lo; i < hi; i++) out.set(qkv.subarray(i * 3 * H + from, i * 3 * H + from + H), (i - lo) * H);
  return out;
}

describe('tiled node attention kernels vs float64 reference', () => {
  for (const useErope of [false, true]) {
    it(`forward and backward ${useErope ? 'with ERoPE (periodic + molecule)' : 'without ERoPE'}`, async () => {
      const { rt } = g;
      const shape = { atoms: N, systems: 2, heads: nh, headDim: d, numFreq: useErope ? nf : 0 };
      const geomPacked = packGeometry(positions, images, omega, radialWeight);
      const bufs = {
        shape, offsets: geomPacked.offsets, qkv: upload(rt, 'qkv', qkv),
        systems: rt.upload('systems', packSystems(sysStart, imageStart)), geom: rt.upload('geom', geomPacked.data),
        o: poisoned(rt, 'o', N * H), stats: poisoned(rt, 'stats', 2 * N * nh),
      };
      const dq = poisoned(rt, 'dq', N * H), dkv = poisoned(rt, 'dkv', N * 2 * H), geomGrad = poisoned(rt, 'gg', N * 12);
      const rec = rt.recorder();
      flashNodeAttentionForward(rt, rec, bufs);
      flashNodeAttentionBackward(rt, rec, {
        ...bufs, dO: upload(rt, 'dO', dO), dq, dkv, geomGradHeads: poisoned(rt, 'ggh', N * nh * 12), geomGrad,
      });
      rec.submit();
      const gotO = await rt.read(bufs.o, N * H), gotDq = await rt.read(dq, N * H);
      const gotDkv = await rt.read(dkv, N * 2 * H), gotGeom = await rt.read(geomGrad, N * 12);

      const erope: Erope | null = useErope ? { omega, radialWeight } : null;
      for (let b = 0; b < 2; b++) {
        const lo = sysStart[b], hi = sysStart[b + 1], n = sizes[b];
        const geometry: PairGeometry = {
          numAtoms: n, positions: positions.slice(3 * lo, 3 * hi),
          imageTranslations: Float64Array.from(images.slice(3 * imageStart[b], 3 * imageStart[b + 1])),
          numImages: imageStart[b + 1] - imageStart[b],
        };
        const q = part(lo, hi, 0), k = part(lo, hi, H), v = part(lo, hi, 2 * H);
        const dOb = dO.slice(lo * H, hi * H);
        const wantO = nodeAttentionCore(q, k, v, n, nh, geometry, erope);
        const gg = new GeometryGradient(n);
        const want = nodeAttentionCoreBackward(q, k, v, dOb, n, nh, geometry, erope, gg);
        expect(relErr(gotO.subarray(lo * H, hi * H), wantO), `o, system ${b}`).toBeLessThan(1e-5);
        expect(relErr(gotDq.subarray(lo * H, hi * H), want.dq), `dq, system ${b}`).toBeLessThan(1e-5);
        const gotDk = new Float64Array(n * H), gotDv = new Float64Array(n * H);
        for (let i = 0; i < n; i++) {
          gotDk.set(gotDkv.subarray((lo + i) * 2 * H, (lo + i) * 2 * H + H), i * H);
          gotDv.set(gotDkv.subarray((lo + i) * 2 * H + H, (lo + i + 1) * 2 * H), i * H);
        }
        expect(relErr(gotDk, want.dk), `dk, system ${b}`).toBeLessThan(1e-5);
        expect(relErr(gotDv, want.dv), `dv, system ${b}`).toBeLessThan(1e-5);
        if (useErope) {
          const gotPos = new Float64Array(n * 3), gotStrain = new Float64Array(9);
          for (let i = 0; i < n; i++) {
            for (let c = 0; c < 3; c++) gotPos[3 * i + c] = gotGeom[(lo + i) * 12 + c];
            for (let c = 0; c < 9; c++) gotStrain[c] += gotGeom[(lo + i) * 12 + 3 + c];
          }
          expect(relErr(gotPos, gg.gradPositions), `∂E/∂pos, system ${b}`).toBeLessThan(1e-4);
          expect(relErr(gotStrain, gg.strain), `strain, system ${b}`).toBeLessThan(1e-4);
        }
      }
    });
  }
});
