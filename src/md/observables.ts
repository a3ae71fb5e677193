// Observables computed on the host from asynchronously delivered samples: thermo rows (OpenMM-reporter-like
// columns plus speed), energy drift, radial distribution functions per element pair, mean-square displacement.
import { cellFrame, cellHeights, displacement } from '../geometry/cell';
import { chemicalSymbol } from '../io/elements';
import { AMU_PER_A3_TO_G_CM3, EV_PER_A3_TO_BAR, KB } from './units';
import type { Sample } from './types';

export interface ThermoRow {
  step: number;
  time_ps: number;
  epot_eV: number;
  ekin_eV: number;
  etot_eV: number;
  /** E_tot plus the thermostat's energy minus the pull tool's work: the quantity the integrator conserves. */
  conserved_eV: number;
  temperature_K: number;
  /** Virial pressure (periodic systems with a virial), else NaN. */
  pressure_bar: number;
  volume_A3: number;
  density_g_cm3: number;
  steps_per_s: number;
  ns_per_day: number;
  /** Work done by the pull tool's springs so far (eV; 0 without steering, src/md/steering.ts). */
  pull_work_eV: number;
}

export const THERMO_COLUMNS: (keyof ThermoRow)[] = ['step', 'time_ps', 'epot_eV', 'ekin_eV', 'etot_eV', 'conserved_eV',
  'temperature_K', 'pressure_bar', 'volume_A3', 'density_g_cm3', 'steps_per_s', 'ns_per_day', 'pull_work_eV'];

export function pressureBar(s: Sample): number {
  if (!s.virial || !(s.volume > 0)) return NaN;
  return ((2 * s.ekin + s.virial[0] + s.virial[4] + s.virial[8]) / (3 * s.volume)) * EV_PER_A3_TO_BAR;
}

export function thermoRow(s: Sample, dof: number, totalMass: number, stepsPerSecond: number, dt: number): ThermoRow {
  return {
    step: s.step, time_ps: s.time / 1000, epot_eV: s.epot, ekin_eV: s.ekin, etot_eV: s.epot + s.ekin,
    conserved_eV: s.epot + s.ekin + s.thermostatEnergy - (s.pullWork ?? 0), temperature_K: (2 * s.ekin) / (dof * KB),
    pressure_bar: pressureBar(s), volume_A3: s.volume,
    density_g_cm3: s.volume > 0 ? (totalMass / s.volume) * AMU_PER_A3_TO_G_CM3 : NaN,
    steps_per_s: stepsPerSecond, ns_per_day: (stepsPerSecond * dt * 86400) / 1e6, pull_work_eV: s.pullWork ?? 0,
  };
}

export function csvHeader(): string { return THERMO_COLUMNS.join(','); }

export function csvLine(r: ThermoRow): string {
  return THERMO_COLUMNS.map((c) => {
    const v = r[c];
    return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toPrecision(10) : '';
  }).join(',');
}

/** Least-squares slope and intercept of y against x. */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number } {
  const n = x.length;
  let sx = 0, sy = 0;
  for (let i = 0; i < n; i++) { sx += x[i]; sy += y[i]; }
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) { sxx += (x[i] - mx) ** 2; sxy += (x[i] - mx) * (y[i] - my); }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

export interface DriftReport {
  /** Slope of the conserved energy, meV per atom per ps. */
  meV_per_atom_per_ps: number;
  /** Total drift over the run divided by σ(E_kin): < 1 means drift is small next to thermal noise. */
  drift_over_sigma_ekin: number;
  sigma_etot_eV: number;
  samples: number;
}

/** Energy drift from a linear fit of the conserved energy against time. */
export class DriftTracker {
  private t: number[] = []; private e: number[] = []; private k: number[] = [];
  constructor(readonly numAtoms: number) {}
  add(s: Sample): void { this.t.push(s.time); this.e.push(s.epot + s.ekin + s.thermostatEnergy - (s.pullWork ?? 0)); this.k.push(s.ekin); }
  report(): DriftReport | null {
    const n = this.t.length;
    if (n < 3) return null;
    const { slope } = linearFit(this.t, this.e); // eV/fs
    const sd = (a: number[]) => { const m = a.reduce((x, y) => x + y, 0) / a.length; return Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / a.length); };
    const span = this.t[n - 1] - this.t[0];
    const sk = sd(this.k);
    return {
      meV_per_atom_per_ps: (slope * 1e3 * 1e3) / this.numAtoms, drift_over_sigma_ekin: sk > 0 ? Math.abs(slope * span) / sk : NaN,
      sigma_etot_eV: sd(this.e), samples: n,
    };
  }
}

/** g(r) per element pair (cells periodic along all three axes, minimum image), accumulated over samples. */
export class Rdf {
  private hist = new Map<string, Float64Array>();
  private frames = 0;
  private volumeSum = 0;
  readonly dr: number;
  constructor(readonly numbers: Int32Array, readonly rMax: number, readonly bins = 200) { this.dr = rMax / bins; }

  add(s: Sample): void {
    if (!s.cell) return;
    const frame = cellFrame(s.cell, [true, true, true]), x = s.positions, n = this.numbers.length;
    // The minimum image is the nearest one up to half the thinnest height.
    const rMax = Math.min(this.rMax, 0.5 * Math.min(...cellHeights(s.cell)));
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
      const d = displacement(x, i, j, frame);
      const r = Math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (r >= rMax) continue;
      const za = Math.min(this.numbers[i], this.numbers[j]), zb = Math.max(this.numbers[i], this.numbers[j]);
      const key = `${chemicalSymbol(za)}-${chemicalSymbol(zb)}`;
      let h = this.hist.get(key);
      if (!h) { h = new Float64Array(this.bins); this.hist.set(key, h); }
      h[Math.floor(r / this.dr)] += 1;
    }
    this.frames++;
    this.volumeSum += s.volume;
  }

  /** Normalised g(r): pair counts over the ideal-gas expectation at the mean volume. */
  result(): { r: number[]; pairs: Record<string, number[]> } {
    const r = Array.from({ length: this.bins }, (_, b) => (b + 0.5) * this.dr);
    const pairs: Record<string, number[]> = {};
    if (this.frames === 0) return { r, pairs };
    const v = this.volumeSum / this.frames;
    const count = new Map<number, number>();
    for (const z of this.numbers) count.set(z, (count.get(z) ?? 0) + 1);
    for (const [key, h] of this.hist) {
      const [a, b] = key.split('-');
      const na = [...count].find(([z]) => chemicalSymbol(z) === a)![1], nb = [...count].find(([z]) => chemicalSymbol(z) === b)![1];
      const nPairs = a === b ? (na * (na - 1)) / 2 : na * nb;
      pairs[key] = Array.from(h, (c, bin) => {
        const shell = (4 / 3) * Math.PI * (((bin + 1) * this.dr) ** 3 - (bin * this.dr) ** 3);
        return c / (this.frames * nPairs * (shell / v));
      });
    }
    return { r, pairs };
  }
}

/** Mean-square displacement per element from the first sample (positions are never wrapped by the engine). */
export class Msd {
  private ref: Float64Array | null = null;
  readonly series: { time_ps: number; msd: Record<string, number> }[] = [];
  constructor(readonly numbers: Int32Array) {}
  add(s: Sample): void {
    if (!this.ref) this.ref = Float64Array.from(s.positions);
    const sum = new Map<string, [number, number]>();
    for (let i = 0; i < this.numbers.length; i++) {
      let d2 = 0;
      for (let k = 0; k < 3; k++) d2 += (s.positions[3 * i + k] - this.ref[3 * i + k]) ** 2;
      const el = chemicalSymbol(this.numbers[i]);
      const a = sum.get(el) ?? [0, 0];
      sum.set(el, [a[0] + d2, a[1] + 1]);
    }
    const msd: Record<string, number> = {};
    for (const [el, [s2, c]] of sum) msd[el] = s2 / c;
    this.series.push({ time_ps: s.time / 1000, msd });
  }
}
