// The pieces of scripts/organics-checks.ts that decide pass or fail, kept apart so a test can feed them
// real and deliberately broken input: the bond check on MD frames, the trajectory reader/truncation used
// for resuming, xtb's harmonic frequencies, and the VDOS-peak-to-mode matching.
import { chemicalSymbol, covalentRadius } from '../src/io/elements';
import { readXyz } from '../src/io/xyz';
import { ASE_TIME_FS } from '../src/md/setup';
import { AMU_A2_FS2_TO_EV } from '../src/md/units';
import { C_CM_PER_FS } from '../src/md/vdos';

export class OrganicsCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrganicsCheckError';
  }
}

/** Pairs closer than this multiple of their covalent radii sum (ASE's radii) are bonded. */
export const BOND_FACTOR = 1.2;
/** A bond is broken when its length leaves ±25 % of its length at the teacher's minimum (issue 16). */
export const BOND_TOLERANCE = 0.25;

export interface Bond { i: number; j: number; r0: number }

function distance(x: ArrayLike<number>, i: number, j: number): number {
  const dx = x[3 * j] - x[3 * i], dy = x[3 * j + 1] - x[3 * i + 1], dz = x[3 * j + 2] - x[3 * i + 2];
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** Bonds of a molecule in vacuum: pairs with r < factor·(R_i + R_j), lengths r0 in Å. */
export function findBonds(numbers: ArrayLike<number>, positions: ArrayLike<number>, factor = BOND_FACTOR): Bond[] {
  const n = numbers.length;
  if (positions.length !== 3 * n) throw new OrganicsCheckError(`bonds: ${positions.length} coordinates for ${n} atoms`);
  const bonds: Bond[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r = distance(positions, i, j);
      if (r < factor * (covalentRadius(numbers[i]) + covalentRadius(numbers[j]))) bonds.push({ i, j, r0: r });
    }
  }
  return bonds;
}

export interface BondEvent { step: number; i: number; j: number; pair: string; r: number; r0?: number; relative?: number }

export interface BondCheck {
  bonds: number;
  frames: number;
  /** Every bond within the tolerance in every frame and no other pair closer than the bond criterion. */
  intact: boolean;
  /** Largest |r/r0 − 1| over all bonds and frames, and where it happened. */
  max_relative_deviation: number;
  worst: BondEvent | null;
  /** Up to 20 of each, first ones first; the counts are complete. */
  broken: BondEvent[];
  broken_count: number;
  formed: BondEvent[];
  formed_count: number;
}

export interface PositionFrame { step: number; positions: ArrayLike<number> }

/**
 * The intactness check: every bond of the reference (its teacher minimum) stays within ±tolerance of its
 * reference length in every frame, and no pair that is not bonded in the reference comes closer than the bond
 * criterion (a new bond). Frames hold N×3 positions in Å; molecules in vacuum, so no minimum image.
 */
export function checkBonds(numbers: ArrayLike<number>, reference: ArrayLike<number>, frames: readonly PositionFrame[],
  tolerance = BOND_TOLERANCE, factor = BOND_FACTOR): BondCheck {
  const n = numbers.length;
  if (frames.length === 0) throw new OrganicsCheckError('bond check: no frames to check');
  const bonds = findBonds(numbers, reference, factor);
  if (bonds.length === 0) throw new OrganicsCheckError('bond check: the reference structure has no bonds');
  const bonded = new Set(bonds.map((b) => b.i * n + b.j));
  const pair = (i: number, j: number) => `${chemicalSymbol(numbers[i])}${i}-${chemicalSymbol(numbers[j])}${j}`;
  const out: BondCheck = { bonds: bonds.length, frames: frames.length, intact: true, max_relative_deviation: 0, worst: null,
    broken: [], broken_count: 0, formed: [], formed_count: 0 };
  for (const f of frames) {
    const x = f.positions;
    if (x.length !== 3 * n) throw new OrganicsCheckError(`bond check: frame of step ${f.step} has ${x.length} coordinates, expected ${3 * n}`);
    for (let k = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k])) throw new OrganicsCheckError(`bond check: frame of step ${f.step} has a non-finite coordinate (atom ${Math.floor(k / 3)})`);
    }
    for (const b of bonds) {
      const r = distance(x, b.i, b.j), rel = r / b.r0 - 1;
      const ev = { step: f.step, i: b.i, j: b.j, pair: pair(b.i, b.j), r, r0: b.r0, relative: rel };
      if (Math.abs(rel) > out.max_relative_deviation || out.worst === null) { out.max_relative_deviation = Math.abs(rel); out.worst = ev; }
      if (Math.abs(rel) > tolerance) {
        out.broken_count++;
        if (out.broken.length < 20) out.broken.push(ev);
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (bonded.has(i * n + j)) continue;
        const r = distance(x, i, j);
        if (r < factor * (covalentRadius(numbers[i]) + covalentRadius(numbers[j]))) {
          out.formed_count++;
          if (out.formed.length < 20) out.formed.push({ step: f.step, i, j, pair: pair(i, j), r });
        }
      }
    }
  }
  out.intact = out.broken_count === 0 && out.formed_count === 0;
  return out;
}

export interface TrajFrame {
  step: number;
  time_fs: number;
  /** Potential energy, eV. */
  epot: number;
  positions: Float64Array;
  /** Å/fs, from the extXYZ momenta (ASE units). */
  velocities: Float64Array;
}

/** Splits extXYZ text into complete frames (a frame cut short by a killed writer is dropped). */
function splitFrames(text: string): string[] {
  const lines = text.split('\n');
  const frames: string[] = [];
  let k = 0;
  while (k < lines.length) {
    if (lines[k].trim() === '') { k++; continue; }
    const n = Number(lines[k].trim());
    if (!Number.isInteger(n) || n <= 0) break;
    if (k + 2 + n > lines.length) break;
    const body = lines.slice(k, k + 2 + n);
    if (body.slice(2).some((l) => l.trim().split(/\s+/).length < 4)) break;
    frames.push(body.join('\n') + '\n');
    k += 2 + n;
  }
  return frames;
}

function stepOf(frameText: string): number {
  const m = /(?:^|\s)step=(\d+)/.exec(frameText.split('\n')[1] ?? '');
  if (!m) throw new OrganicsCheckError('trajectory frame without step= in its comment line (not written by npm run md)');
  return Number(m[1]);
}

/**
 * The trajectory text as it stands at a checkpoint of `step`: frames after it (written before a kill, and about to be
 * written again by the resumed run) and any cut-off frame are dropped.
 */
export function truncateTrajectory(text: string, step: number): string {
  return splitFrames(text).filter((f) => stepOf(f) <= step).join('');
}

/** Frames of an `npm run md --traj x.extxyz` file: step, time, E_pot, positions and velocities. */
export function readTrajectory(text: string, masses: ArrayLike<number>, fileName = 'trajectory'): TrajFrame[] {
  const frames = splitFrames(text);
  if (frames.length === 0) return [];
  const structures = readXyz(frames.join(''), fileName);
  return structures.map((s) => {
    const p = s.arrays?.momenta;
    if (!(p instanceof Float64Array)) throw new OrganicsCheckError(`${fileName}: a frame has no momenta`);
    const v = Float64Array.from(p, (x, k) => x / (masses[Math.floor(k / 3)] * ASE_TIME_FS));
    const info = s.info ?? {};
    return { step: Number(info.step), time_fs: Number(info.time_fs), epot: Number(info.energy), positions: s.positions, velocities: v };
  });
}

export interface HarmonicMode { mode: number; wavenumber: number }

/**
 * Vibrational modes from xtb's `vibspectrum` file (after `xtb --hess`): the rows whose selection rules are not
 * '-' (the '-' rows are the translations and rotations, at zero). Wavenumbers in cm⁻¹; an imaginary mode is negative.
 */
export function parseVibspectrum(text: string): HarmonicMode[] {
  const modes: HarmonicMode[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('$vibrational spectrum')) { inBlock = true; continue; }
    if (line.startsWith('$end')) break;
    if (!inBlock || line.startsWith('#') || line.trim() === '') continue;
    const t = line.trim().split(/\s+/);
    // "mode [symmetry] wavenumber intensity IR RAMAN": the symmetry label is missing on the zero modes
    const nums = t.filter((x) => /^-?\d+(\.\d*)?$/.test(x)).map(Number);
    if (nums.length < 3) throw new OrganicsCheckError(`vibspectrum: cannot read the line "${line.trim()}"`);
    if (t[t.length - 1] === '-' && t[t.length - 2] === '-') continue;
    modes.push({ mode: nums[0], wavenumber: nums[1] });
  }
  if (!inBlock) throw new OrganicsCheckError('vibspectrum: no "$vibrational spectrum" block (not an xtb --hess output)');
  if (modes.length === 0) throw new OrganicsCheckError('vibspectrum: no vibrational modes');
  return modes;
}

export interface PeakMatch {
  wavenumber: number;
  /** Height relative to the highest peak above the lower bound. */
  relative_intensity: number;
  nearest_mode: number;
  mode_wavenumber: number;
  relative_deviation: number;
  within: boolean;
}

/**
 * Each VDOS peak above minWavenumber (cm⁻¹) with at least minRelative of the highest one's height, matched to the
 * nearest harmonic mode; `within` when |ν_peak/ν_mode − 1| ≤ tolerance.
 */
export function matchPeaks(peaks: readonly { wavenumber: number; intensity: number }[], modes: readonly HarmonicMode[],
  minWavenumber = 1000, tolerance = 0.05, minRelative = 0.1): PeakMatch[] {
  const real = modes.filter((m) => m.wavenumber > 0);
  if (real.length === 0) throw new OrganicsCheckError('peak matching: no real harmonic modes');
  const above = peaks.filter((p) => p.wavenumber >= minWavenumber);
  const top = Math.max(0, ...above.map((p) => p.intensity));
  return above.filter((p) => p.intensity >= minRelative * top)
    .sort((a, b) => a.wavenumber - b.wavenumber)
    .map((p) => {
      let best = real[0];
      for (const m of real) if (Math.abs(m.wavenumber - p.wavenumber) < Math.abs(best.wavenumber - p.wavenumber)) best = m;
      const rel = p.wavenumber / best.wavenumber - 1;
      return { wavenumber: p.wavenumber, relative_intensity: p.intensity / top, nearest_mode: best.mode,
        mode_wavenumber: best.wavenumber, relative_deviation: rel, within: Math.abs(rel) <= tolerance };
    });
}

/** Eigenvalues of a symmetric n×n matrix (row-major), by cyclic Jacobi rotations; n is small (3N of one molecule). */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): number[] {
  if (a.length !== n * n) throw new OrganicsCheckError(`eigenvalues: ${a.length} entries for a ${n}×${n} matrix`);
  const m = Float64Array.from(a);
  let scale = 0;
  for (let k = 0; k < m.length; k++) scale += m[k] * m[k];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p], akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq; m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k], aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk; m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => m[i * n + i]);
}

/**
 * Harmonic wavenumbers (cm⁻¹, ascending; an imaginary mode negative) from a Cartesian Hessian (eV/Å², 3N×3N,
 * symmetrised here) and masses (amu): eigenvalues of the mass-weighted Hessian, the `drop` nearest zero removed
 * (6 translations and rotations; 5 for a linear molecule).
 */
export function harmonicWavenumbers(hessian: ArrayLike<number>, masses: ArrayLike<number>, drop: number): number[] {
  const n3 = 3 * masses.length;
  if (hessian.length !== n3 * n3) throw new OrganicsCheckError(`Hessian: ${hessian.length} entries for ${masses.length} atoms (expected ${n3 * n3})`);
  const m = new Float64Array(n3 * n3);
  for (let i = 0; i < n3; i++) {
    for (let j = 0; j < n3; j++) {
      m[i * n3 + j] = (0.5 * (hessian[i * n3 + j] + hessian[j * n3 + i])) / Math.sqrt(masses[Math.floor(i / 3)] * masses[Math.floor(j / 3)]);
    }
  }
  const ev = symmetricEigenvalues(m, n3).sort((a, b) => Math.abs(a) - Math.abs(b)).slice(drop).sort((a, b) => a - b);
  // λ in eV/(Å²·amu) = AMU_A2_FS2_TO_EV/fs²: ω = √(λ/AMU_A2_FS2_TO_EV) rad/fs, wavenumber ω/(2πc)
  return ev.map((l) => (Math.sign(l) * Math.sqrt(Math.abs(l) / AMU_A2_FS2_TO_EV)) / (2 * Math.PI * C_CM_PER_FS));
}
