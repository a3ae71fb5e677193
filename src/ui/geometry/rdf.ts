// Radial distribution function g(r) of stored frames (periodic systems), for one element pair or all
// atoms, through the minimum image. All pairs per frame: meant for on-demand use on up to a few
// thousand atoms, averaged over the last few frames.

import { cellVolume, makeCellFrame, minimumImage, type Vec3 } from './cell';
import type { Pbc } from '../../io/structure';

export interface RdfResult {
  r: number[];
  g: number[];
}

/**
 * g(r) for pairs (A, B), where zA/zB = 0 means "any element". rMax should not exceed half the
 * shortest cell width, where the minimum image stops being the only image within range.
 */
export function radialDistribution(
  frames: { positions: ArrayLike<number>; cell: ArrayLike<number> | null }[],
  numbers: ArrayLike<number>,
  pbc: Pbc,
  rMax: number,
  nBins = 100,
  zA = 0,
  zB = 0,
): RdfResult | null {
  if (!frames.length || !frames[0].cell || !pbc.every((p) => p)) return null;
  const n = numbers.length;
  const isA = (i: number) => zA === 0 || numbers[i] === zA;
  const isB = (i: number) => zB === 0 || numbers[i] === zB;
  let nA = 0, nB = 0, nAB = 0;
  for (let i = 0; i < n; i++) { if (isA(i)) nA++; if (isB(i)) nB++; if (isA(i) && isB(i)) nAB++; }
  if (!nA || !nB) return null;
  const hist = new Float64Array(nBins);
  const dr = rMax / nBins;
  let density = 0; // average of (pair count normalisation) over frames
  const d: Vec3 = [0, 0, 0];
  for (const f of frames) {
    const cf = makeCellFrame(f.cell, pbc);
    const V = cellVolume(f.cell!);
    const p = f.positions;
    for (let i = 0; i < n; i++) {
      if (!isA(i) && !isB(i)) continue;
      for (let j = i + 1; j < n; j++) {
        // Ordered pairs (i in A, j in B) and (j in A, i in B), counted once each.
        const w = (isA(i) && isB(j) ? 1 : 0) + (isA(j) && isB(i) ? 1 : 0);
        if (!w) continue;
        d[0] = p[3 * j] - p[3 * i]; d[1] = p[3 * j + 1] - p[3 * i + 1]; d[2] = p[3 * j + 2] - p[3 * i + 2];
        minimumImage(d, cf);
        const r = Math.hypot(d[0], d[1], d[2]);
        if (r < rMax) hist[Math.floor(r / dr)] += w;
      }
    }
    // Expected ordered-pair count per unit volume for an ideal gas at this density.
    density += (nA * nB - nAB) / V;
  }
  density /= frames.length;
  const r: number[] = [], g: number[] = [];
  for (let k = 0; k < nBins; k++) {
    const r0 = k * dr, r1 = r0 + dr;
    const shell = (4 / 3) * Math.PI * (r1 ** 3 - r0 ** 3);
    r.push(r0 + dr / 2);
    g.push(hist[k] / frames.length / (density * shell));
  }
  return { r, g };
}

/** Largest r for which the minimum image is exact: half the smallest perpendicular cell width. */
export function maxRdfRadius(cell: ArrayLike<number>): number {
  const a: Vec3 = [cell[0], cell[1], cell[2]], b: Vec3 = [cell[3], cell[4], cell[5]], c: Vec3 = [cell[6], cell[7], cell[8]];
  const cr = (p: Vec3, q: Vec3) => Math.hypot(p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]);
  const V = cellVolume(cell);
  return 0.5 * Math.min(V / cr(b, c), V / cr(c, a), V / cr(a, b));
}
