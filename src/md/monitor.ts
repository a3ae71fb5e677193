// Watches a run through its samples: safety checks (keeping the last good sample), thermo rows with speed,
// energy drift, RDF and MSD. The engine delivers samples asynchronously; the monitor never blocks it.
import { checkSample, MdSafetyError, type SafetyLimits } from './safety';
import { DriftTracker, Msd, Rdf, thermoRow, type ThermoRow } from './observables';
import type { Sample } from './types';

/** What the monitor needs to know about the system it watches. */
export interface MdSystemInfo {
  numbers: Int32Array;
  masses: Float64Array;
  /** Degrees of freedom for the temperature. */
  dof: number;
  /** Time step, fs (for ns/day). */
  dt: number;
}

export class RunMonitor {
  lastGood: Sample | null = null;
  failure: MdSafetyError | null = null;
  readonly drift: DriftTracker;
  readonly rdf: Rdf | null;
  readonly msd: Msd;
  readonly rows: ThermoRow[] = [];
  private lastTime = performance.now();
  private lastStep: number;
  private readonly totalMass: number;

  /** Extra per-sample check (e.g. the force field's own limits); returns a message to stop with, or null. */
  extraCheck: ((s: Sample) => string | null) | null = null;

  constructor(readonly info: MdSystemInfo, readonly limits: SafetyLimits, startStep: number,
    readonly onRow: (r: ThermoRow, s: Sample) => void = () => {}, rdfMax = 0) {
    this.drift = new DriftTracker(info.numbers.length);
    this.rdf = rdfMax > 0 ? new Rdf(info.numbers, rdfMax) : null;
    this.msd = new Msd(info.numbers);
    this.lastStep = startStep;
    this.totalMass = info.masses.reduce((a, b) => a + b, 0);
  }

  /** Engine callback: returns 'stop' on the first bad sample. */
  accept = (s: Sample): 'stop' | void => {
    let bad = checkSample(s, this.info.numbers, this.info.masses, this.info.dof, this.limits);
    const extra = bad ? null : this.extraCheck?.(s);
    if (extra) bad = new MdSafetyError(`step ${s.step}: ${extra}`, s.step, []);
    if (bad) {
      const keep = this.lastGood ? `; the last good frame is step ${this.lastGood.step}` : '';
      bad.message = `MD stopped at ${bad.message}${keep}`;
      this.failure = bad;
      return 'stop';
    }
    const now = performance.now();
    const speed = now > this.lastTime ? ((s.step - this.lastStep) * 1000) / (now - this.lastTime) : 0;
    this.lastTime = now; this.lastStep = s.step;
    const row = thermoRow(s, this.info.dof, this.totalMass, speed, this.info.dt);
    this.rows.push(row);
    this.drift.add(s);
    this.rdf?.add(s);
    this.msd.add(s);
    this.lastGood = s;
    this.onRow(row, s);
  };
}
