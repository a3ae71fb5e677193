import { describe, expect, test } from 'vitest';
import { findBonds } from '../../src/ui/geometry/bonds';
import { cellFrame, minimumImage, unwrapStep, wrapPositions, type Vec3 } from '../../src/geometry/cell';
import { angle, dihedral, distance, measure } from '../../src/ui/geometry/measure';

// Deterministic pseudo-random numbers (mulberry32) so failures reproduce.
function rng(seed: number) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Brute force over all 27 neighbor images: the reference the minimum-image code must match.
function bruteMinDist(pos: Float64Array, i: number, j: number, h: number[], pbc: boolean[]): number {
  let best = Infinity;
  for (let a = -4; a <= 4; a++) for (let b = -4; b <= 4; b++) for (let c = -4; c <= 4; c++) {
    if ((!pbc[0] && a) || (!pbc[1] && b) || (!pbc[2] && c)) continue;
    const dx = pos[3 * j] - pos[3 * i] + a * h[0] + b * h[3] + c * h[6];
    const dy = pos[3 * j + 1] - pos[3 * i + 1] + a * h[1] + b * h[4] + c * h[7];
    const dz = pos[3 * j + 2] - pos[3 * i + 2] + a * h[2] + b * h[5] + c * h[8];
    best = Math.min(best, Math.hypot(dx, dy, dz));
  }
  return best;
}

describe('minimum image and measurements', () => {
  const h = [10, 0, 0, 0, 12, 0, 0, 0, 9];
  const cf = cellFrame(h, [true, true, true]);

  test('minimum image matches 27-image brute force in an orthorhombic box', () => {
    const r = rng(1);
    const pos = Float64Array.from({ length: 60 }, (_, k) => (r() - 0.2) * 14 + (k % 3));
    for (let i = 0; i < 20; i++) for (let j = 0; j < 20; j++)
      expect(distance(pos, i, j, cf)).toBeCloseTo(bruteMinDist(pos, i, j, h, [true, true, true]), 10);
  });

  test('a pair split by the boundary reads its true distance; without a cell it does not', () => {
    const pos = Float64Array.from([0.2, 5, 5, 9.7, 5, 5]);
    expect(distance(pos, 0, 1, cf)).toBeCloseTo(0.5, 12);
    expect(distance(pos, 0, 1, null)).toBeCloseTo(9.5, 12);
  });

  test('angle and dihedral of known geometries, across the boundary', () => {
    // Water-like angle with the vertex atom near x=0 and one H wrapped to the far side.
    const t = (104.5 * Math.PI) / 180;
    const O: Vec3 = [0.1, 3, 3];
    const H1: Vec3 = [O[0] + 0.9572, O[1], O[2]];
    const H2: Vec3 = [O[0] + 0.9572 * Math.cos(t) + 10, O[1] + 0.9572 * Math.sin(t), O[2]];
    const pos = Float64Array.from([...H1, ...O, ...H2]);
    expect(angle(pos, 0, 1, 2, cf)).toBeCloseTo(104.5, 9);
    // Dihedral: trans (180) and +60 gauche, built explicitly.
    const chain = (phi: number) => {
      const p = phi * Math.PI / 180;
      return Float64Array.from([1, 1, 0, 0, 0, 0, 0, 0, 1.5, Math.cos(p), Math.sin(p), 1.5 + 1].map((v, k) => v + (k % 3 === 0 ? 9.5 : 2)));
    };
    expect(Math.abs(dihedral(chain(180), 0, 1, 2, 3, cf))).toBeCloseTo(180 - 45, 9);
    // Signed, as ASE's Atoms.get_dihedral gives for these chains (325° and 355°, i.e. −35° and −5°).
    expect(dihedral(chain(10), 0, 1, 2, 3, cf)).toBeCloseTo(-35, 9);
    expect(dihedral(chain(40), 0, 1, 2, 3, cf)).toBeCloseTo(-5, 9);
    expect(measure(chain(10), [0, 1, 2, 3], cf)?.kind).toBe('dihedral');
    expect(measure(chain(10), [0], cf)?.position?.[0]).toBeCloseTo(10.5, 12);
  });

  test('wrap then unwrap restores a continuous trajectory', () => {
    const r = rng(7);
    const n = 30;
    let raw: Float64Array = Float64Array.from({ length: 3 * n }, () => r() * 9);
    let unwrapped: Float64Array = raw.slice();
    let truth: Float64Array = raw.slice();
    for (let step = 0; step < 50; step++) {
      const next = truth.map((v) => v + (r() - 0.5) * 1.5);
      const wrapped = wrapPositions(next, cf);
      unwrapped = unwrapStep(unwrapped, wrapped, raw, cf);
      raw = wrapped;
      truth = next;
    }
    for (let k = 0; k < 3 * n; k++) expect(unwrapped[k]).toBeCloseTo(truth[k], 9);
    const d: Vec3 = [6, -7, 5];
    minimumImage(d, cf);
    [-4, 5, -4].forEach((v, k) => expect(d[k]).toBeCloseTo(v, 12));
  });
});

describe('bonds', () => {
  function bruteBonds(pos: Float64Array, radii: number[], h: number[] | null, pbc: boolean[]) {
    const set = new Set<string>();
    for (let i = 0; i < radii.length; i++) for (let j = i + 1; j < radii.length; j++) {
      const d = h ? bruteMinDist(pos, i, j, h, pbc) : Math.hypot(pos[3 * j] - pos[3 * i], pos[3 * j + 1] - pos[3 * i + 1], pos[3 * j + 2] - pos[3 * i + 2]);
      if (d <= 1.2 * (radii[i] + radii[j]) && d >= 0.1) set.add(`${i}-${j}`);
    }
    return set;
  }
  const cases: [string, number[] | null, boolean[]][] = [
    ['orthorhombic periodic', [11, 0, 0, 0, 9, 0, 0, 0, 13], [true, true, true]],
    ['small periodic box (1–2 bins)', [3.1, 0, 0, 0, 4.5, 0, 0, 0, 3.3], [true, true, true]],
    ['slab (pbc in x, y only)', [11, 0, 0, 0, 9, 0, 0, 0, 13], [true, true, false]],
    ['mildly triclinic', [10, 0, 0, 1.5, 10, 0, 0.5, 1, 11], [true, true, true]],
    ['molecule in vacuum', null, [false, false, false]],
  ];
  for (const [name, h, pbc] of cases)
    test(`cell list equals brute force: ${name}`, () => {
      const r = rng(name.length);
      const n = 150;
      const pos = Float64Array.from({ length: 3 * n }, () => r() * 12 - 1);
      const radii = Array.from({ length: n }, () => [0.31, 0.66, 0.76][Math.floor(r() * 3)]);
      const cf = h ? cellFrame(h, pbc as [boolean, boolean, boolean]) : null;
      const b = findBonds(pos, radii, cf);
      const got = new Set<string>();
      for (let k = 0; k < b.count; k++) got.add(`${b.pairs[2 * k]}-${b.pairs[2 * k + 1]}`);
      expect(got.size).toBe(b.count); // no duplicates
      expect([...got].sort()).toEqual([...bruteBonds(pos, radii, h, pbc)].sort());
      // Bond vectors are minimum-image: never longer than the bond criterion.
      for (let k = 0; k < b.count; k++) {
        const i = b.pairs[2 * k], j = b.pairs[2 * k + 1];
        expect(Math.hypot(b.vectors[3 * k], b.vectors[3 * k + 1], b.vectors[3 * k + 2])).toBeLessThanOrEqual(1.2 * (radii[i] + radii[j]) + 1e-5);
      }
    });
});

import { radialDistribution } from '../../src/ui/geometry/rdf';
describe('rdf', () => {
  test('an ideal gas (uniform random points) has g(r) ≈ 1, and a simple cubic lattice peaks at its spacing', () => {
    const r = rng(3);
    const L = 12;
    const cell = [L, 0, 0, 0, L, 0, 0, 0, L];
    const n = 400;
    const frames = Array.from({ length: 4 }, () => ({ positions: Float64Array.from({ length: 3 * n }, () => r() * L), cell }));
    const g = radialDistribution(frames, new Int32Array(n).fill(18), [true, true, true], 6, 12)!;
    const mean = g.g.slice(4).reduce((a, b) => a + b, 0) / (g.g.length - 4);
    expect(mean).toBeGreaterThan(0.93);
    expect(mean).toBeLessThan(1.07);
    // Simple cubic, spacing 2 Å: first peak in the bin containing 2.0.
    const pos: number[] = [];
    for (let x = 0; x < 6; x++) for (let y = 0; y < 6; y++) for (let z = 0; z < 6; z++) pos.push(2 * x, 2 * y, 2 * z);
    const sc = radialDistribution([{ positions: pos, cell }], new Int32Array(216).fill(18), [true, true, true], 2.5, 25)!;
    const peak = sc.r[sc.g.indexOf(Math.max(...sc.g))];
    expect(Math.abs(peak - 2)).toBeLessThan(0.1);
  });
});
