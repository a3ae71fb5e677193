// Bond detection for the viewer, recomputed every frame: a pair is bonded when its minimum-image
// distance is below `scale · (r_cov,i + r_cov,j)`. A cell list keeps it O(N) for thousands of atoms.
// Each bond carries its minimum-image vector so the viewer draws two half-bonds, one from each atom,
// and no bond is ever stretched across the box.

import { cellHeights, minimumImage, reducedPositions, type CellFrame, type Vec3 } from '../../geometry/cell';

export interface Bonds {
  count: number;
  /** Atom pairs (i, j), i < j. */
  pairs: Int32Array;
  /** Minimum-image vector r_j − r_i per bond (Å). */
  vectors: Float32Array;
}

export interface BondOptions {
  /** Multiplies the sum of covalent radii (1.2 is a common viewer choice). */
  scale?: number;
  /** Pairs closer than this are overlapping atoms, not bonds (Å). */
  minDistance?: number;
}

/** Per axis the smallest and largest of the first n points (N×3). */
function bounds(xyz: ArrayLike<number>, n: number): [number[], number[]] {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let a = 0; a < n; a++)
    for (let d = 0; d < 3; d++) {
      lo[d] = Math.min(lo[d], xyz[3 * a + d]);
      hi[d] = Math.max(hi[d], xyz[3 * a + d]);
    }
  return [lo, hi];
}

export function findBonds(pos: ArrayLike<number>, radii: ArrayLike<number>, cf: CellFrame | null, opts: BondOptions = {}): Bonds {
  const scale = opts.scale ?? 1.2;
  const minD2 = (opts.minDistance ?? 0.1) ** 2;
  const n = radii.length;
  let rMax = 0;
  for (let a = 0; a < n; a++) rMax = Math.max(rMax, radii[a]);
  const cutoff = Math.max(1e-3, 2 * rMax * scale);

  // Bin coordinates: fractional (wrapped) along periodic axes, otherwise Cartesian bounding box.
  const u = new Float64Array(3 * n); // bin-space coordinate in [0, nb)
  const nb = [1, 1, 1];
  const periodic = [false, false, false];
  if (cf) {
    const { inverse: inv, pbc } = cf;
    // Perpendicular widths of the cell, so a bin is at least `cutoff` wide.
    const widths = cellHeights(cf.vectors);
    const frac = reducedPositions(pos, inv, pbc);
    const [lo, hi] = bounds(frac, n);
    for (let d = 0; d < 3; d++) {
      periodic[d] = pbc[d];
      if (pbc[d]) {
        nb[d] = Math.max(1, Math.min(64, Math.floor(widths[d] / cutoff)));
        for (let a = 0; a < n; a++) u[3 * a + d] = Math.min(nb[d] - 1e-9, frac[3 * a + d] * nb[d]);
      } else {
        // Non-periodic axis of a cell: bin the fractional coordinate over its own range.
        const span = (hi[d] - lo[d]) * widths[d];
        nb[d] = Math.max(1, Math.min(64, Math.floor(span / cutoff)));
        const w = hi[d] - lo[d] || 1;
        for (let a = 0; a < n; a++) u[3 * a + d] = Math.min(nb[d] - 1e-9, ((frac[3 * a + d] - lo[d]) / w) * nb[d]);
      }
    }
  } else {
    const [lo, hi] = bounds(pos, n);
    for (let d = 0; d < 3; d++) {
      const span = n ? hi[d] - lo[d] : 0;
      nb[d] = Math.max(1, Math.min(64, Math.floor(span / cutoff)));
      for (let a = 0; a < n; a++) u[3 * a + d] = Math.min(nb[d] - 1e-9, span > 0 ? ((pos[3 * a + d] - lo[d]) / span) * nb[d] : 0);
    }
  }

  // Counting sort of atoms into bins.
  const nBins = nb[0] * nb[1] * nb[2];
  const binOf = new Int32Array(n);
  const start = new Int32Array(nBins + 1);
  for (let a = 0; a < n; a++) {
    const b = (Math.floor(u[3 * a]) * nb[1] + Math.floor(u[3 * a + 1])) * nb[2] + Math.floor(u[3 * a + 2]);
    binOf[a] = b;
    start[b + 1]++;
  }
  for (let b = 0; b < nBins; b++) start[b + 1] += start[b];
  const fill = start.slice(0, nBins);
  const order = new Int32Array(n);
  for (let a = 0; a < n; a++) order[fill[binOf[a]]++] = a;

  // Neighbor bin offsets per axis, deduplicated when an axis has fewer than 3 bins.
  const offsets = (d: number): number[] => {
    if (nb[d] === 1) return [0];
    if (nb[d] === 2) return periodic[d] ? [0, 1] : [-1, 0, 1];
    return [-1, 0, 1];
  };
  const ox = offsets(0), oy = offsets(1), oz = offsets(2);

  let pairs = new Int32Array(Math.max(16, 4 * n));
  let vectors = new Float32Array(Math.max(24, 6 * n));
  let count = 0;
  const d: Vec3 = [0, 0, 0];
  for (let bx = 0; bx < nb[0]; bx++)
    for (let by = 0; by < nb[1]; by++)
      for (let bz = 0; bz < nb[2]; bz++) {
        const b0 = (bx * nb[1] + by) * nb[2] + bz;
        for (const dx of ox)
          for (const dy of oy)
            for (const dz of oz) {
              let cx = bx + dx, cy = by + dy, cz = bz + dz;
              if (periodic[0]) cx = (cx + nb[0]) % nb[0]; else if (cx < 0 || cx >= nb[0]) continue;
              if (periodic[1]) cy = (cy + nb[1]) % nb[1]; else if (cy < 0 || cy >= nb[1]) continue;
              if (periodic[2]) cz = (cz + nb[2]) % nb[2]; else if (cz < 0 || cz >= nb[2]) continue;
              const b1 = (cx * nb[1] + cy) * nb[2] + cz;
              if (b1 < b0) continue; // each unordered bin pair once
              for (let p = start[b0]; p < start[b0 + 1]; p++) {
                const i = order[p];
                for (let q = b1 === b0 ? p + 1 : start[b1]; q < start[b1 + 1]; q++) {
                  const j = order[q];
                  d[0] = pos[3 * j] - pos[3 * i];
                  d[1] = pos[3 * j + 1] - pos[3 * i + 1];
                  d[2] = pos[3 * j + 2] - pos[3 * i + 2];
                  minimumImage(d, cf);
                  const r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                  const lim = scale * (radii[i] + radii[j]);
                  if (r2 > lim * lim || r2 < minD2) continue;
                  if (count * 2 + 2 > pairs.length) {
                    const np = new Int32Array(pairs.length * 2); np.set(pairs); pairs = np;
                    const nv = new Float32Array(vectors.length * 2); nv.set(vectors); vectors = nv;
                  }
                  const s = i < j ? 1 : -1;
                  pairs[2 * count] = Math.min(i, j);
                  pairs[2 * count + 1] = Math.max(i, j);
                  vectors[3 * count] = s * d[0];
                  vectors[3 * count + 1] = s * d[1];
                  vectors[3 * count + 2] = s * d[2];
                  count++;
                }
              }
            }
      }
  return { count, pairs: pairs.subarray(0, 2 * count), vectors: vectors.subarray(0, 3 * count) };
}
