// Lennard-Jones pair potential: parameters, float64 CPU provider, and the analytic long-range tail.
// u(r) = 4ε[(σ/r)¹² − (σ/r)⁶] for r < r_c; optionally shifted by −u(r_c) (energy continuity, forces unchanged),
// optionally with the homogeneous-fluid tail correction (Allen & Tildesley, eqs. 2.143–2.144), which a barostat
// needs to reproduce the equation of state of the untruncated fluid. Mixed pairs use Lorentz–Berthelot rules.
import { cellFrame, minimumImage } from '../geometry/cell';
import type { Pbc } from '../io/structure';
import type { CpuForceProvider, ForceResult } from './forceProvider';

export interface LjSpecies { epsilon: number; sigma: number }

export interface LjParams {
  /** Per atomic number; `default` applies to elements not listed. ε in eV, σ in Å. */
  species: Record<number, LjSpecies>;
  default?: LjSpecies;
  /** Cutoff radius, Å. */
  cutoff: number;
  shift: boolean;
  tailCorrection: boolean;
}

/** Argon (ε/k_B = 119.8 K, σ = 3.405 Å; Rahman 1964 / Michels), the usual test fluid. */
export const ARGON: LjSpecies = { epsilon: 119.8 * 8.617333262e-5, sigma: 3.405 };

/** Type of every atom and pair tables, shared by the CPU and GPU providers. */
export interface LjTables {
  types: Uint32Array;
  numTypes: number;
  /** Per ordered type pair (t1·T + t2): 4ε, σ², energy shift (eV). */
  eps4: Float64Array;
  sigma2: Float64Array;
  shift: Float64Array;
  counts: Float64Array;
  /** Σ_ab N_a N_b ε_ab σ_ab³ x-terms for the tails: U_tail = uTailCoef / V, P_tail = pTailCoef / V². */
  uTailCoef: number;
  pTailCoef: number;
}

export function ljTables(numbers: Int32Array, p: LjParams): LjTables {
  const zs = [...new Set(numbers)].sort((a, b) => a - b);
  const spec = zs.map((z) => {
    const s = p.species[z] ?? p.default;
    if (!s) throw new Error(`Lennard-Jones: no ε, σ for element Z=${z} and no default given`);
    if (!(s.epsilon >= 0) || !(s.sigma > 0)) throw new Error(`Lennard-Jones: bad ε=${s.epsilon}, σ=${s.sigma} for Z=${z}`);
    return s;
  });
  if (!(p.cutoff > 0)) throw new Error(`Lennard-Jones: cutoff must be > 0 Å, got ${p.cutoff}`);
  const T = zs.length;
  const types = new Uint32Array(numbers.length);
  const counts = new Float64Array(T);
  numbers.forEach((z, i) => { types[i] = zs.indexOf(z); counts[types[i]]++; });
  const eps4 = new Float64Array(T * T), sigma2 = new Float64Array(T * T), shift = new Float64Array(T * T);
  let uTail = 0, pTail = 0;
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) {
    const eps = Math.sqrt(spec[a].epsilon * spec[b].epsilon);
    const sig = 0.5 * (spec[a].sigma + spec[b].sigma);
    const k = a * T + b;
    eps4[k] = 4 * eps; sigma2[k] = sig * sig;
    const x3 = (sig / p.cutoff) ** 3, x9 = x3 * x3 * x3;
    shift[k] = p.shift ? 4 * eps * (x3 ** 4 - x3 * x3) : 0;
    uTail += counts[a] * counts[b] * eps * sig ** 3 * (x9 / 3 - x3);
    pTail += counts[a] * counts[b] * eps * sig ** 3 * ((2 / 3) * x9 - x3);
  }
  return {
    types, numTypes: T, eps4, sigma2, shift, counts,
    uTailCoef: p.tailCorrection ? (8 * Math.PI / 3) * uTail : 0,
    pTailCoef: p.tailCorrection ? (16 * Math.PI / 3) * pTail : 0,
  };
}

/** Orthorhombic box lengths, or null in vacuum; throws on a tilted cell (minimum image here is axis-aligned). */
export function orthorhombicLengths(cell: Float64Array | null, pbc: Pbc, who: string): Float64Array | null {
  if (!cell || !pbc.some(Boolean)) return null;
  if (!pbc.every(Boolean)) throw new Error(`${who}: mixed periodicity ${JSON.stringify(pbc)} is not supported; use pbc=T T T or none`);
  const off = [1, 2, 3, 5, 6, 7].map((i) => Math.abs(cell[i]));
  if (Math.max(...off) > 1e-9 * Math.max(cell[0], cell[4], cell[8])) {
    throw new Error(`${who}: the cell must be orthorhombic (diagonal lattice vectors); got ${Array.from(cell).join(' ')}`);
  }
  return Float64Array.of(cell[0], cell[4], cell[8]);
}

export class LennardJonesCpu implements CpuForceProvider {
  readonly kind = 'cpu';
  readonly name = 'Lennard-Jones (float64)';
  readonly tables: LjTables;

  constructor(readonly numbers: Int32Array, readonly params: LjParams) {
    this.tables = ljTables(numbers, params);
  }

  compute(positions: Float64Array, cell: Float64Array | null, pbc: Pbc, wantVirial: boolean): ForceResult {
    const n = this.numbers.length, t = this.tables, T = t.numTypes;
    const L = orthorhombicLengths(cell, pbc, 'Lennard-Jones');
    if (L) for (let k = 0; k < 3; k++) if (this.params.cutoff > L[k] / 2) {
      throw new Error(`Lennard-Jones: cutoff ${this.params.cutoff} Å exceeds half the box length, ${(L[k] / 2).toFixed(3)} Å (minimum image)`);
    }
    const rc2 = this.params.cutoff ** 2;
    const forces = new Float64Array(3 * n);
    const w = new Float64Array(9);
    const frame = L ? cellFrame(cell, pbc) : null;
    const d = [0, 0, 0];
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
      const ti = t.types[i] * T;
      for (let j = i + 1; j < n; j++) {
        d[0] = xi - positions[3 * j]; d[1] = yi - positions[3 * j + 1]; d[2] = zi - positions[3 * j + 2];
        minimumImage(d, frame);
        const dx = d[0], dy = d[1], dz = d[2];
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= rc2) continue;
        const k = ti + t.types[j];
        const s2 = t.sigma2[k] / r2, s6 = s2 * s2 * s2;
        energy += t.eps4[k] * (s6 * s6 - s6) - t.shift[k];
        const fr = (6 * t.eps4[k] * (2 * s6 * s6 - s6)) / r2; // −(du/dr)/r
        const fx = fr * dx, fy = fr * dy, fz = fr * dz;
        forces[3 * i] += fx; forces[3 * i + 1] += fy; forces[3 * i + 2] += fz;
        forces[3 * j] -= fx; forces[3 * j + 1] -= fy; forces[3 * j + 2] -= fz;
        w[0] += dx * fx; w[1] += dx * fy; w[2] += dx * fz;
        w[4] += dy * fy; w[5] += dy * fz; w[8] += dz * fz;
      }
    }
    w[3] = w[1]; w[6] = w[2]; w[7] = w[5];
    if (L) {
      const V = L[0] * L[1] * L[2];
      energy += t.uTailCoef / V;
      const wt = t.pTailCoef / V; // V·P_tail on each diagonal element, so tr W_tail = 3 V P_tail
      w[0] += wt; w[4] += wt; w[8] += wt;
    }
    return { energy, forces, virial: wantVirial ? w : null };
  }
}

/** Number density ρ* = Nσ³/V and reduced temperature T* = k_B T/ε helpers for LJ tests. */
export function reducedDensity(n: number, volume: number, sigma: number): number { return (n * sigma ** 3) / volume; }
