// Radial distribution function g(r) of frames (periodic systems), for one element pair or all atoms, through the
// minimum image. All pairs per frame: meant for on-demand use on up to a few thousand atoms, averaged over the
// last few frames of a run or a frame range of a trajectory file.

import { cellFrame, cellHeights, cellVolume, minimumImage, type Vec3 } from '../../geometry/cell';
import type { Pbc } from '../../io/structure';

export interface RdfResult {
  r: number[];
  g: number[];
}

/**
 * g(r) accumulated frame by frame (a trajectory file is read a chunk at a time): each frame's g(r) is normalised
 * by its own cell volume and the frames' g(r) are averaged, so frames of a changing cell (NPT) weigh equally.
 * Pairs (A, B), zA/zB = 0 meaning "any element"; rMax should not exceed half the shortest cell width, where the
 * minimum image stops being the only image within range.
 */
export class RdfAccumulator {
  private readonly hist: Float64Array;
  private readonly sum: Float64Array;
  private readonly dr: number;
  private readonly isA: Uint8Array;
  private readonly isB: Uint8Array;
  private readonly nA: number;
  private readonly nB: number;
  private readonly nAB: number;
  frames = 0;

  constructor(
    private readonly numbers: ArrayLike<number>,
    private readonly pbc: Pbc,
    private readonly rMax: number,
    private readonly nBins = 100,
    zA = 0,
    zB = 0,
  ) {
    const n = numbers.length;
    this.isA = Uint8Array.from({ length: n }, (_, i) => (zA === 0 || numbers[i] === zA ? 1 : 0));
    this.isB = Uint8Array.from({ length: n }, (_, i) => (zB === 0 || numbers[i] === zB ? 1 : 0));
    let nA = 0, nB = 0, nAB = 0;
    for (let i = 0; i < n; i++) { nA += this.isA[i]; nB += this.isB[i]; nAB += this.isA[i] & this.isB[i]; }
    this.nA = nA; this.nB = nB; this.nAB = nAB;
    this.hist = new Float64Array(nBins);
    this.sum = new Float64Array(nBins);
    this.dr = rMax / nBins;
  }

  /** False when g(r) is not defined here: no full periodicity or no atom of a chosen element. */
  get usable(): boolean {
    return this.pbc.every((p) => p) && this.nA > 0 && this.nB > 0 && this.nA * this.nB - this.nAB > 0;
  }

  add(positions: ArrayLike<number>, cell: ArrayLike<number> | null): void {
    if (!cell || !this.usable) return;
    const { isA, isB, hist, dr, rMax } = this;
    const n = this.numbers.length;
    const cf = cellFrame(cell, this.pbc);
    const p = positions;
    const d: Vec3 = [0, 0, 0];
    hist.fill(0);
    for (let i = 0; i < n; i++) {
      if (!isA[i] && !isB[i]) continue;
      for (let j = i + 1; j < n; j++) {
        // Ordered pairs (i in A, j in B) and (j in A, i in B), counted once each.
        const w = (isA[i] & isB[j]) + (isA[j] & isB[i]);
        if (!w) continue;
        d[0] = p[3 * j] - p[3 * i]; d[1] = p[3 * j + 1] - p[3 * i + 1]; d[2] = p[3 * j + 2] - p[3 * i + 2];
        minimumImage(d, cf);
        const r = Math.hypot(d[0], d[1], d[2]);
        if (r < rMax) hist[Math.floor(r / dr)] += w;
      }
    }
    // Expected ordered-pair count per unit volume for an ideal gas at this frame's density.
    const density = (this.nA * this.nB - this.nAB) / cellVolume(cell);
    for (let k = 0; k < this.nBins; k++) {
      const r0 = k * dr, r1 = r0 + dr;
      this.sum[k] += hist[k] / (density * (4 / 3) * Math.PI * (r1 ** 3 - r0 ** 3));
    }
    this.frames++;
  }

  result(): RdfResult | null {
    if (!this.frames) return null;
    const r: number[] = [], g: number[] = [];
    for (let k = 0; k < this.nBins; k++) {
      r.push((k + 0.5) * this.dr);
      g.push(this.sum[k] / this.frames);
    }
    return { r, g };
  }
}

/** g(r) averaged over `frames` (see RdfAccumulator); null when it is not defined for them. */
export function radialDistribution(
  frames: { positions: ArrayLike<number>; cell: ArrayLike<number> | null }[],
  numbers: ArrayLike<number>,
  pbc: Pbc,
  rMax: number,
  nBins = 100,
  zA = 0,
  zB = 0,
): RdfResult | null {
  if (!frames.length || !frames[0].cell) return null;
  const acc = new RdfAccumulator(numbers, pbc, rMax, nBins, zA, zB);
  if (!acc.usable) return null;
  for (const f of frames) acc.add(f.positions, f.cell);
  return acc.result();
}

/** Largest r for which the minimum image is exact: half the smallest perpendicular cell width. */
export function maxRdfRadius(cell: ArrayLike<number>): number {
  return 0.5 * Math.min(...cellHeights(cell));
}
