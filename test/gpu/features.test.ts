// Slot features vs the float64 CPU features: RBF and e3nn SH per slot, BOO per atom, on the
// graph test systems and on atoms placed along the coordinate axes (SH poles, y = polar axis),
// up to the WGSL maximum SH degree. Outputs are poisoned with NaN first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeEdgeFeatures } from '../../src/cpu/features';
import { planGraph, recordGraphBuild } from '../../src/gpu/ops/graph';
import { MAX_SH_DEGREE, recordEdgeFeatures } from '../../src/gpu/ops/features';
import { f32, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';
import { archWith, booWeightedCases, cpuGraph, goldenGraphCases, graphCases, maxEdgesPerRow, type GraphCase } from './graphSystems';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

function axisCase(): GraphCase {
  // On and near the polar (y) axis and the other axes, plus generic directions.
  const pos = f32([
    0, 0, 0, 0, 1.5, 0, 0, -1.7, 0, 1.6, 0, 0, 0, 0, 1.4, -1.3, 0, 0, 0, 0, -1.2,
    1e-3, 3.1, 0, 1.1, 1.1, 0.2, -0.8, 0.9, -1.0, 2.0, -1.9, 1.2,
  ]);
  return {
    name: 'atoms on the axes, SH degree 11', arch: archWith({ cutoff: 4.0, knn_k: 8, sh_lmax: MAX_SH_DEGREE, boo_lmax: 9 }),
    positions: pos, cell: null, gpuCell: { vectors: null, pbc: [false, false, false] },
  };
}

describe('slot feature kernels vs float64 CPU features', () => {
  for (const c of [...graphCases(), ...goldenGraphCases(), axisCase(), ...booWeightedCases()]) {
    it(c.name, async () => {
      const { rt } = g;
      const cg = cpuGraph(c);
      const cf = computeEdgeFeatures(cg, c.arch);
      const n = cg.numAtoms;
      const K = maxEdgesPerRow(cg) + 1;
      const gg = planGraph(rt, c.arch, n, c.gpuCell, K);
      const rec = rt.recorder('features-test');
      recordGraphBuild(rt, rec, gg, upload(rt, 'test.positions', c.positions));
      await rec.submit();
      const rec2 = rt.recorder('features-test');
      const f = recordEdgeFeatures(rt, rec2, gg, c.arch);
      expect(f.rbf).not.toBeNull();
      const rbfBuf = f.rbf!;
      for (const b of [rbfBuf, f.sh, f.boo, f.booCache]) rt.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(NaN));
      await rec2.submit();
      expect(f.shSize).toBe(cf.shSize);

      const R = f.rbfSize, S = f.shSize, L1 = c.arch.boo_lmax + 1;
      const rbf = await rt.read(rbfBuf, n * K * R);
      const sh = await rt.read(f.sh, n * K * S);
      const boo = await rt.read(f.boo, n * L1);
      let rbfErr = 0, shErr = 0, booErr = 0;
      for (let a = 0; a < n; a++) {
        const e0 = cg.edgeRowStart[a], ne = cg.edgeRowStart[a + 1] - e0;
        for (let r = 0; r < K; r++) {
          const s = a * K + r;
          for (let i = 0; i < R; i++) {
            const want = r < ne ? cf.rbf[(e0 + r) * R + i] : 0;
            rbfErr = Math.max(rbfErr, Math.abs(rbf[s * R + i] - want));
          }
          for (let q = 0; q < S; q++) {
            const want = r < ne ? cf.sh[(e0 + r) * S + q] : 0;
            // component normalisation: |Y_lm| ≤ √(2l+1), so errors are relative to that scale
            const l = Math.floor(Math.sqrt(q));
            shErr = Math.max(shErr, Math.abs(sh[s * S + q] - want) / Math.sqrt(2 * l + 1));
          }
        }
        for (let l = 0; l < L1; l++) booErr = Math.max(booErr, Math.abs(boo[a * L1 + l] - cf.boo[a * L1 + l]) / Math.max(cf.boo[a * L1 + l], 1e-3));
      }
      console.log(`${c.name}: SH degree ${f.lmax}, max |Δrbf| ${rbfErr.toExponential(2)}, |ΔY|/√(2l+1) ${shErr.toExponential(2)}, BOO rel ${booErr.toExponential(2)}`);
      expect(rbfErr).toBeLessThan(1e-5);
      expect(shErr).toBeLessThan(1e-5);
      expect(booErr).toBeLessThan(1e-5);
      if (c.arch.boo_envelope_weighted) {
        // the weights matter here (slots near x = 1), so a kernel taking the plain mean would fail above
        const plain = computeEdgeFeatures(cg, { ...c.arch, boo_envelope_weighted: false }).boo;
        expect(Math.max(...plain.map((v, i) => Math.abs(v - cf.boo[i])))).toBeGreaterThan(1e-3);
      }
    });
  }
});
