// Vibrational density of states from an MD run: the Fourier transform of the mass-weighted velocity
// autocorrelation function C(τ) = Σ_i m_i ⟨v_i(t)·v_i(t+τ)⟩_t, windowed, on a wavenumber axis (cm⁻¹).
// Normalised as states per cm⁻¹, so the area is the number of degrees of freedom (3N): by equipartition
// C(0) = 3N·k_B·T in a classical run, and the peaks sit at the vibrational frequencies.

import { fft, nextPowerOfTwo } from './fft';

/** Speed of light in cm/fs: a frequency of 1/fs is 1/(c·1 fs) = 33,356.4 cm⁻¹. */
export const C_CM_PER_FS = 2.99792458e-5;

export class VdosError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VdosError';
  }
}

export interface VdosOptions {
  /** Largest lag of the autocorrelation used, as a fraction of the run (default 0.5: longer lags are noise). */
  maxLagFraction?: number;
  /** Zero padding of the windowed autocorrelation (default 4): a finer frequency grid, not more resolution. */
  padding?: number;
}

export interface Vdos {
  /** Wavenumber, cm⁻¹, from 0 to the Nyquist wavenumber 1/(2·c·Δt). */
  wavenumber: Float64Array;
  /** Density of states, per cm⁻¹; its integral over the wavenumber is 3N. */
  intensity: Float64Array;
  /** Frequency resolution of the window, cm⁻¹ (about 2/(c·τ_max) for a Hann window). */
  resolution: number;
  /** Autocorrelation C(τ) at the lags used (amu·Å²/fs²), τ = k·Δt. */
  autocorrelation: Float64Array;
}

function check(frames: readonly ArrayLike<number>[], masses: ArrayLike<number>, dt_fs: number, minFrames: number, what: string): void {
  if (!(dt_fs > 0) || !Number.isFinite(dt_fs)) throw new VdosError(`VDOS: the time between ${what} must be a positive number of fs (got ${dt_fs})`);
  if (frames.length < minFrames) throw new VdosError(`VDOS: needs at least ${minFrames} evenly spaced ${what} (got ${frames.length})`);
  const n3 = 3 * masses.length;
  frames.forEach((f, t) => {
    if (f.length !== n3) throw new VdosError(`VDOS: ${what} ${t} has ${f.length} numbers, expected ${n3} (3 per atom for ${masses.length} atoms)`);
  });
  for (let i = 0; i < masses.length; i++) {
    if (!(masses[i] > 0)) throw new VdosError(`VDOS: atom ${i} has mass ${masses[i]}; masses must be positive (amu)`);
  }
}

/** Mass-weighted velocity autocorrelation C_k (k = 0..T-1, amu·Å²/fs²), unbiased: each lag averaged over its T−k pairs. */
export function velocityAutocorrelation(velocities: readonly ArrayLike<number>[], masses: ArrayLike<number>): Float64Array {
  const T = velocities.length;
  const P = nextPowerOfTwo(2 * T); // zero padding to 2T: a linear, not circular, correlation
  const power = new Float64Array(P);
  const re = new Float64Array(P), im = new Float64Array(P);
  for (let i = 0; i < masses.length; i++) {
    const w = Math.sqrt(masses[i]);
    for (let d = 0; d < 3; d++) {
      re.fill(0); im.fill(0);
      for (let t = 0; t < T; t++) re[t] = w * velocities[t][3 * i + d];
      fft(re, im);
      for (let k = 0; k < P; k++) power[k] += re[k] * re[k] + im[k] * im[k];
    }
  }
  im.fill(0);
  fft(power, im, true);
  const c = new Float64Array(T);
  for (let k = 0; k < T; k++) c[k] = power[k] / P / (T - k);
  return c;
}

/**
 * VDOS from velocities (Å/fs, each frame N×3) sampled every dt_fs, masses in amu. The autocorrelation is cut at
 * maxLagFraction of the run and multiplied by a Hann window (one half, 1 at τ = 0) before the cosine transform.
 */
export function vdosFromVelocities(velocities: readonly ArrayLike<number>[], masses: ArrayLike<number>, dt_fs: number,
  opts: VdosOptions = {}): Vdos {
  check(velocities, masses, dt_fs, 8, 'velocity frames');
  const T = velocities.length;
  const maxLag = Math.max(4, Math.floor((opts.maxLagFraction ?? 0.5) * T));
  const c = velocityAutocorrelation(velocities, masses).subarray(0, maxLag);
  if (!(c[0] > 0)) throw new VdosError('VDOS: the velocities are all zero (a frozen or minimised system has no vibrations to show)');
  const L = nextPowerOfTwo(2 * maxLag * Math.max(1, opts.padding ?? 4));
  const re = new Float64Array(L), im = new Float64Array(L);
  re[0] = c[0];
  for (let k = 1; k < maxLag; k++) {
    const w = 0.5 * (1 + Math.cos((Math.PI * k) / maxLag));
    re[k] = re[L - k] = w * c[k];
  }
  fft(re, im);
  // S(ν_j) = Δt·Σ_k w_k C_k e^{−2πi jk/L} is real (even sequence); one-sided G = 2S has ∫₀^∞ G dν = C(0).
  const half = L / 2;
  const wavenumber = new Float64Array(half + 1), intensity = new Float64Array(half + 1);
  const cmPerInvFs = 1 / C_CM_PER_FS;
  const dof = 3 * masses.length;
  for (let j = 0; j <= half; j++) {
    wavenumber[j] = (j / (L * dt_fs)) * cmPerInvFs;
    const oneSided = (j === 0 || j === half ? 1 : 2) * dt_fs * re[j];
    intensity[j] = (dof * oneSided) / c[0] / cmPerInvFs;
  }
  return { wavenumber, intensity, resolution: (2 / (maxLag * dt_fs)) * cmPerInvFs, autocorrelation: Float64Array.from(c) };
}

/**
 * VDOS from positions (Å, N×3 per frame, unwrapped: no jumps across the cell) saved every dt_fs, as the
 * workbench keeps its trajectory. Velocities are the forward differences (x_{t+1} − x_t)/Δt, which scale the
 * spectrum by sinc²(π·ν·Δt); that factor is divided out and the area set back to 3N.
 */
export function vdosFromPositions(positions: readonly ArrayLike<number>[], masses: ArrayLike<number>, dt_fs: number,
  opts: VdosOptions = {}): Vdos {
  check(positions, masses, dt_fs, 9, 'position frames');
  const n3 = 3 * masses.length;
  const velocities: Float64Array[] = [];
  for (let t = 0; t + 1 < positions.length; t++) {
    const v = new Float64Array(n3);
    for (let k = 0; k < n3; k++) v[k] = (positions[t + 1][k] - positions[t][k]) / dt_fs;
    velocities.push(v);
  }
  const out = vdosFromVelocities(velocities, masses, dt_fs, opts);
  let area = 0;
  for (let j = 0; j < out.wavenumber.length; j++) {
    const x = Math.PI * out.wavenumber[j] * C_CM_PER_FS * dt_fs;
    const sinc = x === 0 ? 1 : Math.sin(x) / x;
    // at the Nyquist end sinc² falls to 4/π² ≈ 0.41: the correction stays bounded
    out.intensity[j] /= sinc * sinc;
    if (j > 0) area += 0.5 * (out.intensity[j] + out.intensity[j - 1]) * (out.wavenumber[j] - out.wavenumber[j - 1]);
  }
  const scale = (3 * masses.length) / area;
  for (let j = 0; j < out.intensity.length; j++) out.intensity[j] *= scale;
  return out;
}

/**
 * The `count` highest local maxima above `minWavenumber` (cm⁻¹), highest first, each refined by a parabola through
 * the three points around it (the grid is the padded one, a few cm⁻¹).
 */
export function vdosPeaks(v: Vdos, minWavenumber = 0, count = 10): { wavenumber: number; intensity: number }[] {
  const peaks: { wavenumber: number; intensity: number }[] = [];
  const y = v.intensity, x = v.wavenumber;
  for (let j = 1; j + 1 < y.length; j++) {
    if (x[j] < minWavenumber || !(y[j] > y[j - 1] && y[j] >= y[j + 1])) continue;
    const denom = y[j - 1] - 2 * y[j] + y[j + 1];
    const shift = denom !== 0 ? (0.5 * (y[j - 1] - y[j + 1])) / denom : 0;
    peaks.push({ wavenumber: x[j] + shift * (x[j + 1] - x[j]), intensity: y[j] });
  }
  return peaks.sort((a, b) => b.intensity - a.intensity).slice(0, count);
}
