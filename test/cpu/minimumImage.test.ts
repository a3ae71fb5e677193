// ERoPE's minimum image without the image loop (src/cpu/eropeDistance.ts): rounding in reduced
// coordinates where that is provably the nearest image, the loop over the enumerated images otherwise.
// The shortcut must equal the loop on every pair; a skewed cell must send pairs to the loop (some of
// them with a rounded image that is NOT the nearest); and node attention's position gradient must
// match finite differences on both sides of the half-box switch and across the shortcut's threshold.
import { describe, expect, it } from 'vitest';
import type { PairGeometry } from '../../src/cpu/eropeDistance';
import { cellFrame, wrapPositions, type Cell } from '../../src/geometry/cell';
import { enumerateImages, imageRepeats, imageTranslations, minimumImageDisplacement, minimumImageMetric } from '../../src/geometry/periodicImages';
import { eropeFrequencies } from '../../src/model/architecture';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { nodeAttentionCore, nodeAttentionCoreBackward } from '../../src/cpu/nodeAttention';
import { rng } from '../helpers/systems';

const CELLS: Record<string, Cell> = {
  orthorhombic: { vectors: Float64Array.of(7, 0, 0, 0, 8, 0, 0, 0, 9), pbc: [true, true, true] },
  triclinic: { vectors: Float64Array.of(6.1, 0, 0, 0.7, 5.8, 0, -0.5, 0.4, 6.4), pbc: [true, true, true] },
  skewed: { vectors: Float64Array.of(6, 0, 0, 4.5, 5, 0, -3, 2.5, 6), pbc: [true, true, true] },
  'skewed slab': { vectors: Float64Array.of(6, 0, 0, 3.5, 5.5, 0, 1, -1, 20), pbc: [true, true, false] },
  'rotated cube': { vectors: Float64Array.of(0.6 * 8, 0.8 * 8, 0, -0.8 * 8, 0.6 * 8, 0, 0, 0, 8), pbc: [true, true, true] },
};

function translations(cell: Cell, cutoff = 6): Float64Array {
  return imageTranslations(enumerateImages(imageRepeats(cell, cutoff)), cell.vectors);
}

function randomWrapped(cell: Cell, n: number, seed: number): Float64Array {
  const r = rng(seed);
  return wrapPositions(Float64Array.from({ length: 3 * n }, () => 30 * r() - 10), cellFrame(cell.vectors, cell.pbc));
}

describe('minimum image without the image loop', () => {
  for (const [name, cell] of Object.entries(CELLS)) {
    it(`${name}: equals the loop over the enumerated images on every pair`, () => {
      const T = translations(cell), M = T.length / 3;
      const metric = minimumImageMetric(cell);
      const n = 60, p = randomWrapped(cell, n, 7);
      const fast = new Float64Array(3), loop = new Float64Array(3), none = new Float64Array(0);
      let accepted = 0, rejected = 0, roundedWrong = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const dx = p[3 * j] - p[3 * i], dy = p[3 * j + 1] - p[3 * i + 1], dz = p[3 * j + 2] - p[3 * i + 2];
          const r2 = minimumImageDisplacement(metric, T, M, dx, dy, dz, fast, 0);
          const want = minimumImageDisplacement(null, T, M, dx, dy, dz, loop, 0);
          expect(Math.abs(r2 - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
          for (let k = 0; k < 3; k++) expect(fast[k]).toBeCloseTo(loop[k], 10);
          // With no images to loop over, only the shortcut can answer (Infinity: it declined).
          const shortcut = minimumImageDisplacement(metric, none, 0, dx, dy, dz, fast, 0);
          if (Number.isFinite(shortcut)) { accepted++; continue; }
          rejected++;
          // what plain rounding would have given
          let ex = dx, ey = dy, ez = dz;
          for (let a = 0; a < 3; a++) {
            if (!cell.pbc[a]) continue;
            const s = dx * metric.inverse[a] + dy * metric.inverse[3 + a] + dz * metric.inverse[6 + a];
            const m = Math.floor(s + 0.5);
            ex -= m * cell.vectors[3 * a]; ey -= m * cell.vectors[3 * a + 1]; ez -= m * cell.vectors[3 * a + 2];
          }
          if (ex * ex + ey * ey + ez * ez > want * (1 + 1e-9)) roundedWrong++;
        }
      if (name === 'orthorhombic' || name === 'rotated cube') {
        expect(metric.acceptRadius2).toBe(Infinity);
        expect(rejected).toBe(0);
      } else {
        expect(metric.acceptRadius2).toBeLessThan(Infinity);
        expect(accepted).toBeGreaterThan(n); // more than the self pairs
        expect(rejected).toBeGreaterThan(0);
      }
      // the skewed cells need the fallback: rounding alone picks a farther image for some pairs
      if (name === 'skewed' || name === 'skewed slab') expect(roundedWrong).toBeGreaterThan(0);
    });
  }

  it('a molecule (no periodic axis) always takes the shortcut', () => {
    const m = minimumImageMetric(null);
    const out = new Float64Array(3);
    expect(minimumImageDisplacement(m, new Float64Array(0), 0, 3, -4, 12, out, 0)).toBe(169);
    expect(Array.from(out)).toEqual([3, -4, 12]);
  });
});

describe('node attention ERoPE position gradient vs finite differences', () => {
  // Atom 1 moves along x in the skewed cell: through the shortcut's threshold |d'| = h_min/2 (where
  // the pair changes from rounding to the loop; nothing may jump there) and through the half-box
  // switch of the nearest image (where the force jumps; central differences on either side only).
  const cell = CELLS.skewed;
  const T = translations(cell);
  const nh = 2, d = 4, H = nh * d, n = 5;
  const omega = eropeFrequencies(8);
  const r = rng(3);
  const radialWeight = Float64Array.from({ length: nh * 8 }, () => 0.3 * r() + 0.1);
  const q = Float64Array.from({ length: n * H }, () => r() - 0.5);
  const k = Float64Array.from({ length: n * H }, () => r() - 0.5);
  const v = Float64Array.from({ length: n * H }, () => r() - 0.5);
  const w = Float64Array.from({ length: n * H }, () => r() - 0.5);
  const base = Float64Array.of(0.2, 0.3, 0.4, 0, 0, 0, 1.5, 3.9, 2.2, 4.4, 1.1, 5.0, 2.9, 2.6, 0.7);
  const geometryAt = (x: number): PairGeometry => {
    const positions = Float64Array.from(base);
    positions[3] = x; positions[4] = 0.3 + 0.2 * x; positions[5] = 0.4;
    return { numAtoms: n, positions, imageTranslations: T, numImages: T.length / 3, minimumImage: minimumImageMetric(cell) };
  };
  const energy = (g: PairGeometry) => {
    const o = nodeAttentionCore(q, k, v, n, nh, g, { omega, radialWeight });
    let e = 0;
    for (let i = 0; i < o.length; i++) e += o[i] * w[i];
    return e;
  };
  const gradX = (g: PairGeometry) => {
    const geo = new GeometryGradient(n);
    nodeAttentionCoreBackward(q, k, v, w, n, nh, g, { omega, radialWeight }, geo);
    return geo.gradPositions[3] + 0.2 * geo.gradPositions[4];
  };
  /** r of pair (0, 1) and whether the shortcut answered it. */
  const pair01 = (x: number) => {
    const g = geometryAt(x), p = g.positions, out = new Float64Array(3);
    const dx = p[3] - p[0], dy = p[4] - p[1], dz = p[5] - p[2];
    const r2 = minimumImageDisplacement(g.minimumImage, T, T.length / 3, dx, dy, dz, out, 0);
    return { r: Math.sqrt(r2), shortcut: Number.isFinite(minimumImageDisplacement(g.minimumImage, new Float64Array(0), 0, dx, dy, dz, out, 0)) };
  };

  /** Which image each pair (1, j) uses, as a string (a change means the nearest image switched). */
  const imagesOfAtom1 = (x: number) => {
    const g = geometryAt(x), p = g.positions, out = new Float64Array(3), key: number[] = [];
    for (let j = 0; j < n; j++) {
      const dx = p[3 * j] - p[3], dy = p[3 * j + 1] - p[4], dz = p[3 * j + 2] - p[5];
      minimumImageDisplacement(g.minimumImage, T, T.length / 3, dx, dy, dz, out, 0);
      key.push(...[0, 1, 2].map((c) => Math.round(out[c] - [dx, dy, dz][c])));
    }
    return key.join(',');
  };

  it('matches central differences on a path through the shortcut threshold and the half-box switch', () => {
    const xs = Array.from({ length: 121 }, (_, i) => 0.05 * i);
    const rs = xs.map(pair01);
    // the path really crosses both: the shortcut stops answering, and r stops growing (image switch)
    expect(rs.some((s) => s.shortcut) && rs.some((s) => !s.shortcut)).toBe(true);
    const switchAt = rs.findIndex((s, i) => i > 0 && s.r < rs[i - 1].r);
    expect(switchAt).toBeGreaterThan(0);
    const thresholdAt = rs.findIndex((s) => !s.shortcut);
    const h = 1e-5;
    let worst = 0, scale = 0, kinks = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const fd = (energy(geometryAt(x + h)) - energy(geometryAt(x - h))) / (2 * h);
      const an = gradX(geometryAt(x));
      // skip points within h of an image switch of any pair of atom 1 (a kink of the minimum image, not an error)
      if (imagesOfAtom1(x - h) !== imagesOfAtom1(x + h)) { kinks++; continue; }
      worst = Math.max(worst, Math.abs(fd - an));
      scale = Math.max(scale, Math.abs(an));
    }
    expect(kinks).toBeGreaterThan(0);
    expect(kinks).toBeLessThanOrEqual(10); // a handful of 121 points
    expect(worst / scale).toBeLessThan(1e-6);
    // close on both sides of the threshold: the energy is continuous where the shortcut hands over
    const xt = xs[thresholdAt];
    let lo = xt - 0.05, hi = xt;
    for (let it = 0; it < 60; it++) { const mid = 0.5 * (lo + hi); if (pair01(mid).shortcut === pair01(lo).shortcut) lo = mid; else hi = mid; }
    expect(Math.abs(energy(geometryAt(hi)) - energy(geometryAt(lo)))).toBeLessThan(1e-12);
    expect(Math.abs(gradX(geometryAt(hi)) - gradX(geometryAt(lo)))).toBeLessThan(1e-9);
  });
});
