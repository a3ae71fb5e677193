// architecture.erope_smooth_minimum_image and architecture.knn_candidate_margin in the float64 CPU
// runtime (docs/model-format.md): the smooth periodic pair distance and its hand-written gradients,
// forces and stress against central finite differences with the flags on, the force across half the
// box (a step with the minimum image, smooth with the flag) and the energy across a candidate swap at
// the truncation boundary (a step with a tight budget, continuous with the margin).
import { describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import { smoothPairDistance, smoothPairMetric } from '../../src/cpu/eropeDistance';
import type { LoadedModel } from '../../src/model/config';
import type { Structure } from '../../src/io/structure';
import { goldenModel, readGolden } from '../helpers/golden';
import { deform, forceFdError, stressFdError } from '../helpers/finiteDifferences';
import { clone, randomCluster, rng, withCell } from '../helpers/systems';
import { ModelLoadError } from '../../src/model/errors';
import { validateModelConfig } from '../../src/model/modelJson';
import { tinyConfigObject } from '../model/helpers';
import { loadModelFromPath } from '../../src/model/loadNode';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const base = goldenModel(readGolden('case1_water8_allflags')); // LAE + ERoPE + node weights, H=32
const TRICLINIC = [4.1, 0, 0, 0.6, 3.9, 0, -0.4, 0.5, 4.3];

function variant(arch: Partial<LoadedModel['config']['architecture']>): LoadedModel {
  return { tensors: base.tensors, config: { ...base.config, architecture: { ...base.config.architecture, ...arch } } };
}

/** max_i |F_fd − F| / max |F| over all components, for forces that are not all ~0. */
function forceError(model: LoadedModel, s: Structure): number {
  const { err, maxF } = forceFdError(model, s);
  expect(maxF).toBeGreaterThan(1e-3);
  return err;
}


function rotation(seed: number): Float64Array {
  // Gram–Schmidt of three random vectors: a proper or improper orthogonal matrix, rows orthonormal.
  const r = rng(seed);
  const v = Array.from({ length: 3 }, () => [r() - 0.5, r() - 0.5, r() - 0.5]);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < i; j++) {
      const d = v[i][0] * v[j][0] + v[i][1] * v[j][1] + v[i][2] * v[j][2];
      for (let k = 0; k < 3; k++) v[i][k] -= d * v[j][k];
    }
    const n = Math.hypot(v[i][0], v[i][1], v[i][2]);
    for (let k = 0; k < 3; k++) v[i][k] /= n;
  }
  return Float64Array.from(v.flat());
}

describe('model.json flags', () => {
  it('default to false (converted checkpoints and older files keep the reference) and are type-checked', () => {
    const c = validateModelConfig(tinyConfigObject());
    expect(c.architecture.erope_smooth_minimum_image).toBe(false);
    expect(c.architecture.knn_candidate_margin).toBe(false);
    const obj = tinyConfigObject();
    obj.architecture.erope_smooth_minimum_image = 'yes';
    expect(() => validateModelConfig(obj)).toThrow(/erope_smooth_minimum_image/);
  });

  it('knn_candidate_margin refuses a budget under 2·knn_k', () => {
    const obj = tinyConfigObject();
    obj.architecture.knn_candidate_margin = true;
    obj.architecture.knn_k = 10;
    obj.architecture.knn_candidates = 19;
    let err: unknown;
    try { validateModelConfig(obj); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).problems.join('\n')).toMatch(/knn_candidate_margin needs architecture.knn_candidates \(19\) ≥ 2 × knn_k \(20\)/);
    obj.architecture.knn_candidates = 20;
    expect(validateModelConfig(obj).architecture.knn_candidate_margin).toBe(true);
  });
});

describe('smooth periodic pair distance r̃ (eropeDistance.ts)', () => {
  const cell = { vectors: Float64Array.from([6.4, 0, 0, 1.1, 6.2, 0, -0.7, 0.9, 5.8]), pbc: [true, true, true] as [boolean, boolean, boolean] };
  const m = smoothPairMetric(cell);
  const disps = [[0.3, -0.2, 0.1], [3.1, 2.9, -2.7], [-4.0, 1.5, 5.0], [6.1, 0.2, 0.3]];

  it('is periodic, even, the plain distance at short range, and exact where the PyTorch formula says', () => {
    for (const [x, y, z] of disps) {
      const r = smoothPairDistance(m, x, y, z);
      expect(Math.abs(smoothPairDistance(m, -x, -y, -z) - r)).toBeLessThan(1e-13);
      // shifted by lattice vectors
      const v = cell.vectors;
      const sx = x + 2 * v[0] - v[3] + 3 * v[6], sy = y + 2 * v[1] - v[4] + 3 * v[7], sz = z + 2 * v[2] - v[5] + 3 * v[8];
      expect(Math.abs(smoothPairDistance(m, sx, sy, sz) - r)).toBeLessThan(1e-12);
    }
    const small = smoothPairDistance(m, 0.05, -0.03, 0.02);
    expect(Math.abs(small - Math.hypot(0.05, 0.03, 0.02))).toBeLessThan(1e-9);
    expect(smoothPairDistance(m, 0, 0, 0)).toBe(0);
    // orthogonal cell: per axis (L/π)·sin(πs)·sqrt((3 + sin²(πs))/3)
    const L = [7, 8.5, 9];
    const ortho = smoothPairMetric({ vectors: Float64Array.from([7, 0, 0, 0, 8.5, 0, 0, 0, 9]), pbc: [true, true, true] });
    const d = [5.8, 3.8, 2.1];
    let q = 0;
    for (let a = 0; a < 3; a++) {
      const sn2 = Math.sin((Math.PI * d[a]) / L[a]) ** 2;
      q += (L[a] ** 2 * sn2 * (3 + sn2)) / (3 * Math.PI ** 2);
    }
    expect(Math.abs(smoothPairDistance(ortho, d[0], d[1], d[2]) - Math.sqrt(q))).toBeLessThan(1e-13);
    // a non-periodic axis keeps the Cartesian component
    const slab = smoothPairMetric({ vectors: Float64Array.from([7, 0, 0, 0, 8.5, 0, 0, 0, 9]), pbc: [true, true, false] });
    const sn2x = Math.sin((Math.PI * d[0]) / L[0]) ** 2, sn2y = Math.sin((Math.PI * d[1]) / L[1]) ** 2;
    const qSlab = (L[0] ** 2 * sn2x * (3 + sn2x) + L[1] ** 2 * sn2y * (3 + sn2y)) / (3 * Math.PI ** 2) + d[2] ** 2;
    expect(Math.abs(smoothPairDistance(slab, d[0], d[1], d[2]) - Math.sqrt(qSlab))).toBeLessThan(1e-13);
  });

  it('gradient and strain derivative match central differences', () => {
    const g = new Float64Array(3), S = new Float64Array(9);
    const h = 1e-6;
    for (const [x, y, z] of disps) {
      smoothPairDistance(m, x, y, z, g, S);
      const d = [x, y, z];
      for (let k = 0; k < 3; k++) {
        const p = [...d], q = [...d];
        p[k] += h; q[k] -= h;
        const fd = (smoothPairDistance(m, p[0], p[1], p[2]) - smoothPairDistance(m, q[0], q[1], q[2])) / (2 * h);
        expect(Math.abs(fd - g[k])).toBeLessThan(1e-8);
      }
      for (let i = 0; i < 9; i++) {
        const at = (sign: number) => {
          const eps = new Float64Array(9);
          eps[i] = sign * h;
          const dd = deform(Float64Array.from(d), eps);
          return smoothPairDistance(smoothPairMetric({ vectors: deform(cell.vectors, eps), pbc: cell.pbc }), dd[0], dd[1], dd[2]);
        };
        expect(Math.abs((at(1) - at(-1)) / (2 * h) - S[i])).toBeLessThan(1e-7);
      }
    }
  });

  it('turns with positions and cell together: same r̃, rotated gradient', () => {
    const R = rotation(3);
    const rotated = smoothPairMetric({ vectors: deform(cell.vectors, subtractIdentity(R)), pbc: cell.pbc });
    const g = new Float64Array(3), gr = new Float64Array(3);
    for (const d of disps) {
      const dr = deform(Float64Array.from(d), subtractIdentity(R));
      const r0 = smoothPairDistance(m, d[0], d[1], d[2], g);
      const r1 = smoothPairDistance(rotated, dr[0], dr[1], dr[2], gr);
      expect(Math.abs(r1 - r0)).toBeLessThan(1e-12);
      const gRot = deform(g, subtractIdentity(R));
      for (let k = 0; k < 3; k++) expect(Math.abs(gr[k] - gRot[k])).toBeLessThan(1e-12);
    }
  });
});

/** R − 1, so that deform(v, R − 1) = v·R. */
function subtractIdentity(R: Float64Array): Float64Array {
  const e = Float64Array.from(R);
  e[0] -= 1; e[4] -= 1; e[8] -= 1;
  return e;
}

describe('model with erope_smooth_minimum_image and knn_candidate_margin (float64)', () => {
  const flags = { erope_smooth_minimum_image: true, knn_candidate_margin: true };

  it('forces = −dE/dx in a periodic triclinic cell (central differences)', () => {
    const model = variant({ ...flags, knn_k: 7, knn_candidates: 14, cutoff: 3.0 });
    const s = withCell(randomCluster(7, 3.4, 1.0, 101), TRICLINIC);
    expect(forceError(model, s)).toBeLessThan(1e-6);
  });

  it('forces = −dE/dx in a slab (pbc TTF)', () => {
    const model = variant({ ...flags, knn_k: 7, knn_candidates: 14, cutoff: 3.0 });
    const s = withCell(randomCluster(8, 3.6, 1.0, 102), [4.3, 0, 0, 0.5, 4.0, 0, 0, 0, 9.0], [true, true, false]);
    expect(forceError(model, s)).toBeLessThan(1e-6);
  });

  it('stress = (1/V) dE/dε in a triclinic cell (finite strain)', () => {
    const model = variant({ ...flags, knn_k: 7, knn_candidates: 14, cutoff: 3.0 });
    const s = withCell(randomCluster(7, 3.4, 1.0, 55), TRICLINIC);
    const { err, maxS } = stressFdError(model, s);
    expect(maxS).toBeGreaterThan(1e-5);
    expect(err).toBeLessThan(1e-6);
  });

  it('changes nothing without a periodic cell', () => {
    const s = randomCluster(9, 4.0, 1.0, 103);
    const on = computeCpu(variant(flags), s), off = computeCpu(variant({}), s);
    expect(on.energy).toBe(off.energy);
    expect(Array.from(on.forces)).toEqual(Array.from(off.forces));
  });
});

/** Force on atom 2 while its x-distance to atom 0 crosses half of a 14 Å cubic box (no edge is near). */
function halfBoxScan(model: LoadedModel, step: number, points = 6): { maxStep: number; maxF: number } {
  const s: Structure = {
    numbers: Int32Array.from([8, 1, 10]), positions: Float64Array.from([2, 2, 2, 3, 3.5, 2, 9, 2.4, 2.3]),
    cell: Float64Array.from([14, 0, 0, 0, 14, 0, 0, 0, 14]), pbc: [true, true, true], charge: 0, spin: 1,
  };
  const f: number[][] = [];
  for (let i = 0; i < points; i++) {
    const t = (i - (points - 1) / 2) * step;
    const p = clone(s);
    p.positions[6] += t;
    const r = computeCpu(model, p, { stress: false });
    f.push(Array.from(r.forces.subarray(6, 9)));
  }
  let maxStep = 0, maxF = 0;
  for (let i = 0; i < points; i++)
    for (let k = 0; k < 3; k++) {
      maxF = Math.max(maxF, Math.abs(f[i][k]));
      if (i > 0) maxStep = Math.max(maxStep, Math.abs(f[i][k] - f[i - 1][k]));
    }
  return { maxStep, maxF };
}

describe('continuity across the boundaries (float64)', () => {
  it('a pair crossing half the box: the force steps with the minimum image, not with the smooth distance', () => {
    const off = variant({});
    const on = variant({ erope_smooth_minimum_image: true });
    const offCoarse = halfBoxScan(off, 1e-3), offFine = halfBoxScan(off, 1e-4);
    expect(offFine.maxStep).toBeGreaterThan(1e-3 * offFine.maxF);
    expect(offFine.maxStep).toBeGreaterThan(0.9 * offCoarse.maxStep); // a finite step, whatever the grid
    const onCoarse = halfBoxScan(on, 1e-3), onFine = halfBoxScan(on, 1e-4);
    expect(onFine.maxStep).toBeLessThan(0.15 * onCoarse.maxStep); // shrinks linearly with the grid
    expect(onFine.maxStep).toBeLessThan(1e-3 * offFine.maxStep);
  });

  /** A Ne atom with 24 Ne at 2.9–3.3 Å: near ties lower the soft ranks so the budget falls among edges. */
  function shell(): Structure {
    const r = rng(15);
    const n = 24;
    const golden = Math.PI * (3 - Math.sqrt(5));
    const pos = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const z = 1 - (2 * (i + 0.5)) / n, rho = Math.sqrt(1 - z * z), rad = 2.9 + 0.4 * r();
      pos.push(rad * rho * Math.cos(golden * i), rad * rho * Math.sin(golden * i), rad * z);
    }
    return { numbers: new Int32Array(n + 1).fill(10), positions: Float64Array.from(pos), cell: null, pbc: [false, false, false], charge: 0, spin: 1 };
  }

  /** Energy steps while atom 0's first dropped candidate moves through its last kept one. */
  function swapScan(model: LoadedModel, step: number, points = 6): { maxStep: number; edgeCounts: Set<string> } {
    const s = shell();
    const n = s.numbers.length;
    const dist = Array.from({ length: n }, (_, i) => Math.hypot(s.positions[3 * i], s.positions[3 * i + 1], s.positions[3 * i + 2]));
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[a] - dist[b]);
    const budget = model.config.architecture.knn_candidates;
    const lastKept = order[budget - 1], firstDropped = order[budget];
    const e: number[] = [];
    const edgeCounts = new Set<string>();
    for (let i = 0; i < points; i++) {
      const t = (i - (points - 1) / 2) * step;
      const p = clone(s);
      const f = (dist[lastKept] + t) / dist[firstDropped];
      for (let k = 0; k < 3; k++) p.positions[3 * firstDropped + k] *= f;
      const r = computeCpu(model, p, { stress: false, intermediates: true });
      e.push(r.energy);
      const g = r.intermediates!.graph;
      edgeCounts.add(Array.from(g.edgeCand, (c, j) => `${g.edgeCenter[j]}-${g.candNeighbor[c]}`).sort().join(','));
    }
    let maxStep = 0;
    for (let i = 1; i < points; i++) maxStep = Math.max(maxStep, Math.abs(e[i] - e[i - 1]));
    return { maxStep, edgeCounts };
  }

  it('a candidate swap at the truncation boundary: the energy steps with a tight budget, not with the margin', () => {
    const tight = variant({ knn_k: 10, knn_candidates: 14 });
    const coarse = swapScan(tight, 1e-4), fine = swapScan(tight, 1e-5);
    expect(fine.edgeCounts.size).toBe(2); // an edge changes identity at the swap
    expect(fine.maxStep).toBeGreaterThan(1e-4);
    expect(fine.maxStep).toBeGreaterThan(0.9 * coarse.maxStep);
    const margin = variant({ knn_k: 10, knn_candidates: 20, knn_candidate_margin: true });
    const mc = swapScan(margin, 1e-4), mf = swapScan(margin, 1e-5);
    expect(mf.edgeCounts.size).toBe(1);
    expect(mf.maxStep).toBeLessThan(0.15 * mc.maxStep);
    expect(mf.maxStep).toBeLessThan(1e-2 * fine.maxStep); // the step at the swap without the margin: 2.3 meV
  });
});

describe('PyTorch fixtures with the flags on (training/make_fixtures.py)', () => {
  for (const name of ['smooth-triclinic', 'smooth-slab']) {
    it(`${name}: the CPU runtime agrees to ~1e-14, and the flag moves E and F far beyond the WebGPU tolerances`, async () => {
      const dir = join(__dirname, '..', 'fixtures', name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      const model = await loadModelFromPath(dir);
      expect(model.config.architecture.erope_smooth_minimum_image).toBe(true);
      expect(model.config.architecture.knn_candidate_margin).toBe(true);
      const s: Structure = {
        numbers: Int32Array.from(c.inputs.numbers), positions: Float64Array.from(c.inputs.positions.flat()),
        cell: Float64Array.from(c.inputs.cell.flat()), pbc: c.inputs.pbc, charge: c.inputs.charge, spin: c.inputs.spin,
      };
      const want = { e: c.outputs.energy as number, f: (c.outputs.forces as number[][]).flat(), s: (c.outputs.stress as number[][]).flat() };
      const maxRel = (got: ArrayLike<number>, ref: number[]) => {
        let e = 0, m = 0;
        for (let i = 0; i < ref.length; i++) { e = Math.max(e, Math.abs(got[i] - ref[i])); m = Math.max(m, Math.abs(ref[i])); }
        return e / m;
      };
      const r = computeCpu(model, s);
      expect(Math.abs(r.energy - want.e) / Math.abs(want.e)).toBeLessThan(1e-13);
      expect(maxRel(r.forces, want.f)).toBeLessThan(1e-12);
      expect(maxRel(r.stress!, want.s)).toBeLessThan(1e-12);
      // with the minimum image instead: E off by ~5e-4 relative, F by ~1e-2, so the WebGPU parity test
      // (test/gpu/model.test.ts: 1e-5 and 1e-4) really checks the smooth distance
      const off = computeCpu({ ...model, config: { ...model.config, architecture: { ...model.config.architecture, erope_smooth_minimum_image: false } } }, s);
      expect(Math.abs(off.energy - want.e) / Math.abs(want.e)).toBeGreaterThan(1e-4);
      expect(maxRel(off.forces, want.f)).toBeGreaterThan(1e-3);
    });
  }
});
