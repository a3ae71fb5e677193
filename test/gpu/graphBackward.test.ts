// Geometry backward vs the float64 CPU chain: random upstream ∂E/∂(key bias), ∂E/∂RBF, ∂E/∂Y per
// slot and ∂E/∂BOO per atom → ∂E/∂positions (N×3) and the strain sum, through BOO, RBF, SH,
// envelope, soft ranks (incl. the reverse-candidate dst rank) and the by-neighbor index; compared
// with booBackward + rbfBackward + shBackward + neighborGraphBackward + GeometryGradient.
// Gradients of empty slots are NaN (they must be ignored); outputs are poisoned with NaN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeBias, neighborGraphBackward } from '../../src/cpu/graph';
import { booBackward, computeEdgeFeatures, rbfBackward, shBackward } from '../../src/cpu/features';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { planGraph, recordGraphBackward, recordGraphBuild } from '../../src/gpu/ops/graph';
import { recordEdgeFeatures, recordFeaturesBackward } from '../../src/gpu/ops/features';
import { f32, randomArray, relErr, setupGpu, teardownGpu, upload, type TestGpu } from './helpers';
import { booWeightedCases, cpuGraph, goldenGraphCases, graphCases, maxEdgesPerRow } from './graphSystems';

let g: TestGpu;
beforeAll(async () => { g = await setupGpu(); });
afterAll(() => teardownGpu(g));

function poison(b: GPUBuffer): void {
  g.rt.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(NaN));
}

describe('geometry backward kernels vs float64 CPU backward', () => {
  // weighted BOO: its weights' gradient reaches the positions through the envelope (key-bias) path
  [...graphCases(), ...goldenGraphCases(), ...booWeightedCases()].forEach((c, ci) => {
    const variants = ci === 1 ? [{ extra: true, dist: false }, { extra: false, dist: false }]
      : ci === 3 ? [{ extra: false, dist: false }, { extra: false, dist: true }] : [{ extra: false, dist: false }];
    for (const { extra: withExtra, dist: fusedRbf } of variants) {
      it(`${c.name}${withExtra ? ', plus per-atom extra gradients' : ''}${fusedRbf ? ', ∂E/∂d given instead of ∂E/∂RBF (no RBF table)' : ''}`, async () => {
        const { rt } = g;
        const arch = c.arch;
        const cg = cpuGraph(c);
        const cf = computeEdgeFeatures(cg, arch);
        const n = cg.numAtoms, E = cg.edgeEnv.length;
        const K = maxEdgesPerRow(cg) + 1;
        const R = arch.rbf_size, S = cf.shSize, L1 = arch.boo_lmax + 1;
        const { bias, dBiasDx } = envelopeBias(cg);

        // Upstream gradients per CPU edge. ∂E/∂bias is scaled by exp(bias), as a softmax
        // weight would scale it: the bias is steep near x = 1 and attention damps it there.
        const gBiasE = f32(randomArray(E, 100 + ci).map((v, e) => v * Math.exp(bias[e])));
        const gRbfE = f32(randomArray(E * R, 200 + ci));
        const gShE = f32(randomArray(E * S, 300 + ci));
        const gBoo = f32(randomArray(n * L1, 400 + ci));
        const extra = f32(randomArray(n * 12, 500 + ci, 0.3));

        // float64 reference
        const gradSh = Float64Array.from(gShE);
        const gradBias = Float64Array.from(gBiasE);
        booBackward(cg, arch, cf, gBoo, gradSh, gradBias);
        const gradEnv = gradBias.map((v, e) => v * dBiasDx[e]);
        const gradDist = rbfBackward(cg, cf, gRbfE, R);
        const gradUnit = shBackward(cg, cf, gradSh);
        const gradDisp = neighborGraphBackward(cg, arch, gradEnv, gradDist, gradUnit);
        const geo = new GeometryGradient(n);
        for (let a = 0; a < n; a++)
          for (let cnd = cg.candRowStart[a]; cnd < cg.candRowStart[a + 1]; cnd++)
            geo.addDisplacement(a, cg.candNeighbor[cnd], cg.candDisp, 3 * cnd, gradDisp, 3 * cnd);
        // the envelope/soft-rank path must carry a real share of the answer for the test to see it
        const noEnv = new GeometryGradient(n);
        const gradDispNoEnv = neighborGraphBackward(cg, arch, new Float64Array(E), gradDist, gradUnit);
        for (let a = 0; a < n; a++)
          for (let cnd = cg.candRowStart[a]; cnd < cg.candRowStart[a + 1]; cnd++)
            noEnv.addDisplacement(a, cg.candNeighbor[cnd], cg.candDisp, 3 * cnd, gradDispNoEnv, 3 * cnd);
        expect(relErr(noEnv.gradPositions, geo.gradPositions)).toBeGreaterThan(1e-2);
        const wantPos = Float64Array.from(geo.gradPositions);
        const wantStrain = Float64Array.from(geo.strain);
        if (withExtra) {
          for (let a = 0; a < n; a++) {
            for (let q = 0; q < 3; q++) wantPos[3 * a + q] += extra[12 * a + q];
            for (let q = 0; q < 9; q++) wantStrain[q] += extra[12 * a + 3 + q];
          }
        }

        // the same gradients in the padded slot layout; NaN in empty slots
        const slot = (a: number, r: number) => a * K + r;
        const gBiasS = new Float64Array(n * K).fill(NaN);
        const gRbfS = new Float64Array(n * K * R).fill(NaN);
        const gDistS = new Float64Array(n * K).fill(NaN);
        const gShS = new Float64Array(n * K * S).fill(NaN);
        for (let a = 0; a < n; a++)
          for (let e = cg.edgeRowStart[a]; e < cg.edgeRowStart[a + 1]; e++) {
            const s = slot(a, e - cg.edgeRowStart[a]);
            gBiasS[s] = gBiasE[e];
            gRbfS.set(gRbfE.subarray(e * R, e * R + R), s * R);
            gDistS[s] = gradDist[e];
            gShS.set(gShE.subarray(e * S, e * S + S), s * S);
          }

        const gg = planGraph(rt, arch, n, c.gpuCell, K);
        const rec = rt.recorder('backward-test');
        recordGraphBuild(rt, rec, gg, upload(rt, 'test.positions', c.positions));
        const f = recordEdgeFeatures(rt, rec, gg, arch, { rbf: !fusedRbf });
        if (fusedRbf) expect(f.rbf).toBeNull();
        await rec.submit();
        for (const b of ['features.slotGrad', 'features.slotGunit', 'graph.candGdisp', 'graph.gradPositions', 'graph.strainPart', 'graph.strain'])
          poison(rt.buffer(b, 16));
        const rec2 = rt.recorder('backward-test');
        const { slotGrad, slotGunit } = recordFeaturesBackward(rt, rec2, gg, f, {
          gradBias: upload(rt, 'test.gBias', gBiasS), gradRbf: upload(rt, 'test.gRbf', fusedRbf ? gDistS : gRbfS), gradIsDistance: fusedRbf,
          gradSh: upload(rt, 'test.gSh', gShS), gradBoo: upload(rt, 'test.gBoo', gBoo),
        });
        const out = recordGraphBackward(rt, rec2, gg, { slotGrad, slotGunit, extra: withExtra ? upload(rt, 'test.extra', extra) : undefined });
        await rec2.submit();

        const gotPos = await rt.read(out.gradPositions, 3 * n);
        const gotStrain = await rt.read(out.strain, 9);
        const ePos = relErr(gotPos, wantPos), eStrain = relErr(gotStrain, wantStrain);
        console.log(`${c.name}${withExtra ? ' +extra' : ''}${fusedRbf ? ' ∂E/∂d' : ''}: ‖Δ∂E/∂pos‖/‖∂E/∂pos‖ ${ePos.toExponential(2)}, strain ${eStrain.toExponential(2)}`);
        expect(ePos).toBeLessThan(1e-5);
        expect(eStrain).toBeLessThan(1e-5);

        // deterministic: a second run gives identical bits
        const rec3 = rt.recorder('backward-test');
        const again = recordFeaturesBackward(rt, rec3, gg, f, {
          gradBias: upload(rt, 'test.gBias', gBiasS), gradRbf: upload(rt, 'test.gRbf', fusedRbf ? gDistS : gRbfS), gradIsDistance: fusedRbf,
          gradSh: upload(rt, 'test.gSh', gShS), gradBoo: upload(rt, 'test.gBoo', gBoo),
        });
        recordGraphBackward(rt, rec3, gg, { ...again, extra: withExtra ? upload(rt, 'test.extra', extra) : undefined });
        await rec3.submit();
        expect(Array.from(await rt.read(out.gradPositions, 3 * n))).toEqual(Array.from(gotPos));
      });
    }
  });
});
