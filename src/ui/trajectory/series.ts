// Per-frame observables of a trajectory file, gathered frame by frame as it is read: what the file holds (extXYZ
// `energy`, `forces`, velocities or momenta, time) and what follows from positions and cells (volume, density,
// MSD with unwrapping). NaN where a frame does not have it.

import { atomicMass } from '../../io/elements';
import type { Structure } from '../../io/structure';
import { ASE_TIME_FS } from '../../md/setup';
import { AMU_A2_FS2_TO_EV, AMU_PER_A3_TO_G_CM3, KB } from '../../md/units';
import { cellVolume } from '../../geometry/cell';
import { MsdUnwrapper } from '../geometry/msd';

export interface TrajectorySeries {
  /** Simulation time of each frame (fs): the frame's `time_fs` (as the workbench and `npm run md` write it), else NaN. */
  time_fs: number[];
  /** The frame's `step` key, else NaN. */
  step: number[];
  /** Potential energy in the file (extXYZ `energy`, eV), else NaN. */
  energy: number[];
  /** Largest and RMS force in the file (extXYZ `forces`, eV/Å), else NaN. */
  fmax: number[];
  frms: number[];
  /** Kinetic temperature from the file's velocities or momenta (K), 3N degrees of freedom as ASE's get_temperature. */
  temperature: number[];
  /** Kinetic energy from the same (eV). */
  ekin: number[];
  /** Cell volume (Å³) and mass density (g/cm³) of periodic frames, else NaN. */
  volume: number[];
  density: number[];
  /** Mean squared displacement from the first frame (Å²), unwrapped across periodic boundaries. */
  msd: number[];
}

export function emptySeries(): TrajectorySeries {
  return { time_fs: [], step: [], energy: [], fmax: [], frms: [], temperature: [], ekin: [], volume: [], density: [], msd: [] };
}

function infoNumber(s: Structure, key: string): number {
  const v = s.info?.[key];
  return typeof v === 'number' ? v : Number.NaN;
}

/** Velocities in Å/fs from a frame's `velocities` (ASE units) or `momenta` (amu·Å per ASE time), else null. */
export function frameVelocities(s: Structure, masses: Float64Array): Float64Array | null {
  const n = s.numbers.length;
  const v = s.arrays?.velocities;
  const p = s.arrays?.momenta;
  const src = v instanceof Float64Array && v.length === 3 * n ? v : p instanceof Float64Array && p.length === 3 * n ? p : null;
  if (!src) return null;
  const isMomenta = src !== v;
  return Float64Array.from(src, (x, i) => x / ASE_TIME_FS / (isMomenta ? masses[Math.floor(i / 3)] : 1));
}

export class SeriesBuilder {
  readonly series = emptySeries();
  private readonly masses: Float64Array;
  private readonly totalMass: number;
  private readonly msd: MsdUnwrapper;

  constructor(first: Structure) {
    this.masses = Float64Array.from(first.numbers, (z) => atomicMass(z));
    this.totalMass = this.masses.reduce((a, b) => a + b, 0);
    this.msd = new MsdUnwrapper(first.pbc);
  }

  push(s: Structure): void {
    const t = this.series;
    const n = s.numbers.length;
    t.time_fs.push(infoNumber(s, 'time_fs'));
    t.step.push(infoNumber(s, 'step'));
    t.energy.push(infoNumber(s, 'energy'));
    const f = s.arrays?.forces;
    if (f instanceof Float64Array && f.length === 3 * n) {
      let max = 0, sum = 0;
      for (let i = 0; i < n; i++) {
        const f2 = f[3 * i] ** 2 + f[3 * i + 1] ** 2 + f[3 * i + 2] ** 2;
        max = Math.max(max, f2);
        sum += f2;
      }
      t.fmax.push(Math.sqrt(max));
      t.frms.push(Math.sqrt(sum / n));
    } else {
      t.fmax.push(Number.NaN);
      t.frms.push(Number.NaN);
    }
    const v = frameVelocities(s, this.masses);
    if (v) {
      let e = 0;
      for (let i = 0; i < n; i++) e += this.masses[i] * (v[3 * i] ** 2 + v[3 * i + 1] ** 2 + v[3 * i + 2] ** 2);
      const ekin = 0.5 * e * AMU_A2_FS2_TO_EV;
      t.ekin.push(ekin);
      t.temperature.push((2 * ekin) / (3 * n * KB));
    } else {
      t.ekin.push(Number.NaN);
      t.temperature.push(Number.NaN);
    }
    const periodic = s.cell !== null && s.pbc.every(Boolean);
    const volume = periodic ? cellVolume(s.cell!) : Number.NaN;
    t.volume.push(volume);
    t.density.push(periodic ? (this.totalMass / volume) * AMU_PER_A3_TO_G_CM3 : Number.NaN);
    t.msd.push(this.msd.push(s.positions, s.cell));
  }
}
