// Float64 MD engine on the host: the reference for the WGSL integrators and the fallback without WebGPU.
// Same algorithms, same random-number counters, same step order as src/md/gpuEngine.ts.
import type { CpuForceProvider } from './forceProvider';
import { cellVolume } from '../geometry/cell';
import { seedKey, gaussian4, STREAM } from './rng';
import { checkPull, PullAccumulator, type Pull } from './steering';
import {
  bussiAlpha, nhcHalfStep, nhcMasses, nhcEnergy, barostatTrialDeltaV, barostatAccept, barostatAdapt,
  type NhcState, type BarostatState,
} from './thermostats';
import { AMU_A2_FS2_TO_EV, EV_PER_A3_TO_BAR, KB, kineticEnergy } from './units';
import {
  DEFAULT_MAX_FORCE, degreesOfFreedom, MAX_NHC, type EngineCheckpoint, type MdEngine, type MdSettings, type MdSystem, type RunOptions,
  type Sample,
} from './types';

const FIRE = { nMin: 5, fInc: 1.1, fDec: 0.5, alphaStart: 0.1, fAlpha: 0.99 };

export class CpuMdEngine implements MdEngine {
  readonly backend = 'cpu';
  readonly numAtoms: number;
  private x: Float64Array; private v: Float64Array; private f: Float64Array;
  private cell: Float64Array | null;
  private epot = 0; private virial: Float64Array | null = null;
  private heat = 0; // energy the thermostat removed (eV)
  private nhc: NhcState = { xi: new Float64Array(MAX_NHC), vxi: new Float64Array(MAX_NHC) };
  private baro: BarostatState;
  private fire = { dt: 0, alpha: FIRE.alphaStart, npos: 0 };
  private stepCount = 0;
  private fault: { step: number; atom: number } | null = null;
  /** The pull tool's springs and work, from the first setPull on. */
  private pull: PullAccumulator | null = null;
  private readonly key: [number, number];
  private readonly invMass: Float64Array; // 1/(m·C): acceleration per unit force, Å/fs² per eV/Å
  private readonly numMolecules: number;

  /**
   * Called after every step with the engine's own arrays (positions Å, forces eV/Å; views, copy what you keep),
   * E_pot (eV) and the cell: per-step checks such as the energy-continuity test of src/md/driftReport.ts.
   */
  onStep: ((step: number, positions: Float64Array, forces: Float64Array, epot: number, cell: Float64Array | null) => void) | null = null;

  constructor(readonly system: MdSystem, readonly provider: CpuForceProvider, readonly settings: MdSettings,
    initialForces = true) {
    this.numAtoms = system.numbers.length;
    this.x = Float64Array.from(system.positions);
    this.v = Float64Array.from(system.velocities);
    this.f = new Float64Array(3 * this.numAtoms);
    this.cell = system.cell ? Float64Array.from(system.cell) : null;
    this.key = seedKey(settings.seed);
    this.invMass = Float64Array.from(system.masses, (m) => 1 / (m * AMU_A2_FS2_TO_EV));
    this.numMolecules = new Set(system.molecules).size;
    this.baro = { attempts: 0, accepted: 0, windowAttempts: 0, windowAccepted: 0, volumeScale: 0.01 * this.volume() };
    this.fire.dt = settings.dt;
    if (settings.ensemble === 'npt' && !(this.cell && system.pbc.every(Boolean))) {
      throw new Error('npt needs a periodic cell (pbc T T T with a Lattice)');
    }
    if (initialForces) this.computeForces();
  }

  get step(): number { return this.stepCount; }

  private volume(): number { return this.cell ? cellVolume(this.cell) : 0; }

  /** Model forces, then the pull's springs (their work is not counted for a barostat trial, which may be undone). */
  private computeForces(trial = false): void {
    const r = this.provider.compute(this.x, this.cell, this.system.pbc, true);
    this.f.set(r.forces);
    this.epot = r.energy;
    this.virial = r.virial;
    this.pull?.apply(this.x, this.f, !trial);
  }

  setPull(p: Pull | null): void {
    if (p) checkPull(p, this.numAtoms);
    // Forces so far hold no spring: the first step's trapezoid starts from zero force at today's positions.
    if (p && !this.pull) this.pull = new PullAccumulator(this.x);
    this.pull?.set(p ? { ...p, atoms: [...p.atoms], offsets: [...p.offsets], target: [...p.target] } : null);
  }

  private kick(h: number): void {
    const { v, f, invMass } = this;
    for (let i = 0; i < this.numAtoms; i++) {
      const a = h * invMass[i];
      v[3 * i] += a * f[3 * i]; v[3 * i + 1] += a * f[3 * i + 1]; v[3 * i + 2] += a * f[3 * i + 2];
    }
  }

  private drift(h: number): void {
    for (let k = 0; k < this.x.length; k++) this.x[k] += h * this.v[k];
  }

  private scaleVelocities(s: number): void {
    const before = kineticEnergy(this.system.masses, this.v);
    for (let k = 0; k < this.v.length; k++) this.v[k] *= s;
    this.heat -= (s * s - 1) * before;
  }

  private ekin(): number { return kineticEnergy(this.system.masses, this.v); }

  private kT(): number { return KB * this.settings.temperature; }

  /** One step of the chosen ensemble. */
  private advance(): void {
    const s = this.settings, dt = s.dt, n = this.numAtoms;
    const nf = degreesOfFreedom(s.ensemble, n);
    switch (s.ensemble) {
      case 'nve':
        this.kick(0.5 * dt); this.drift(dt); this.computeForces(); this.kick(0.5 * dt);
        break;
      case 'nvt-langevin':
      case 'npt': {
        // BAOAB (Leimkuhler & Matthews 2013): kick, half drift, Ornstein–Uhlenbeck, half drift, force, kick.
        this.kick(0.5 * dt); this.drift(0.5 * dt);
        const c1 = Math.exp(-s.friction * dt), c2 = Math.sqrt(1 - c1 * c1);
        const g = new Float64Array(4);
        const kT = this.kT();
        for (let i = 0; i < n; i++) {
          gaussian4(this.key, i, this.stepCount, STREAM.langevin, 0, g);
          const sd = c2 * Math.sqrt(kT * this.invMass[i]);
          let e0 = 0, e1 = 0;
          for (let k = 0; k < 3; k++) {
            const vo = this.v[3 * i + k], vn = c1 * vo + sd * g[k];
            e0 += vo * vo; e1 += vn * vn;
            this.v[3 * i + k] = vn;
          }
          this.heat -= (0.5 * (e1 - e0)) / this.invMass[i];
        }
        this.drift(0.5 * dt); this.computeForces(); this.kick(0.5 * dt);
        if (s.ensemble === 'npt' && (this.stepCount + 1) % s.barostatInterval === 0) this.barostatMove();
        break;
      }
      case 'nvt-bussi': {
        this.kick(0.5 * dt); this.drift(dt); this.computeForces(); this.kick(0.5 * dt);
        const k = this.ekin();
        this.scaleVelocities(bussiAlpha(k, 0.5 * nf * this.kT(), nf, dt, s.tauT, this.key, this.stepCount));
        break;
      }
      case 'nvt-nhc': {
        const q = nhcMasses(nf, this.kT(), s.tauT, s.nhcLength);
        const st = this.chain();
        this.scaleVelocities(nhcHalfStep(st, this.ekin(), nf, this.kT(), q, 0.5 * dt));
        this.kick(0.5 * dt); this.drift(dt); this.computeForces(); this.kick(0.5 * dt);
        this.scaleVelocities(nhcHalfStep(st, this.ekin(), nf, this.kT(), q, 0.5 * dt));
        break;
      }
      case 'minimize':
        this.fireStep();
        break;
    }
    this.stepCount++;
    if (!this.fault) this.watch();
    this.onStep?.(this.stepCount, this.x, this.f, this.epot, this.cell);
  }

  /** Per-step watchdog, as in the WGSL `kick`: the first non-finite number or force above the limit. */
  private watch(): void {
    const lim2 = (this.settings.maxForce ?? DEFAULT_MAX_FORCE) ** 2, { x, v, f } = this;
    for (let i = 0; i < this.numAtoms; i++) {
      let f2 = 0, finite = true;
      for (let k = 3 * i; k < 3 * i + 3; k++) {
        f2 += f[k] * f[k];
        finite &&= Number.isFinite(x[k]) && Number.isFinite(v[k]) && Number.isFinite(f[k]);
      }
      if (!finite || !(f2 <= lim2)) { this.fault = { step: this.stepCount, atom: i }; return; }
    }
  }

  /** A view of the first nhcLength chain elements. */
  private chain(): NhcState {
    const m = this.settings.nhcLength;
    return { xi: this.nhc.xi.subarray(0, m), vxi: this.nhc.vxi.subarray(0, m) };
  }

  private barostatMove(): void {
    const s = this.settings, n = this.numAtoms, b = this.baro;
    const v0 = this.volume();
    const dV = barostatTrialDeltaV(this.key, b.attempts, b.volumeScale);
    const v1 = v0 + dV;
    let accepted = false;
    if (v1 > 0) {
      const lambda = Math.cbrt(v1 / v0);
      const old = { x: Float64Array.from(this.x), f: Float64Array.from(this.f), cell: Float64Array.from(this.cell!),
        epot: this.epot, virial: this.virial };
      const com = moleculeCentres(this.x, this.system.masses, this.system.molecules, this.numMolecules);
      for (let i = 0; i < n; i++) {
        const m = this.system.molecules[i];
        for (let k = 0; k < 3; k++) this.x[3 * i + k] += (lambda - 1) * com[3 * m + k];
      }
      for (let k = 0; k < 9; k++) this.cell![k] *= lambda;
      this.computeForces(true);
      accepted = barostatAccept(this.key, b.attempts, this.epot - old.epot, s.pressure / EV_PER_A3_TO_BAR, v0, v1,
        this.numMolecules, this.kT());
      if (!accepted) {
        this.x.set(old.x); this.f.set(old.f); this.cell!.set(old.cell); this.epot = old.epot; this.virial = old.virial;
      }
    }
    barostatAdapt(b, accepted, accepted ? v1 : v0);
  }

  /** FIRE (Bitzek et al., PRL 97, 170201 (2006)) with semi-implicit Euler and a per-atom step cap. */
  private fireStep(): void {
    const { x, v, f, invMass } = this, n = this.numAtoms, fs = this.fire, s = this.settings;
    let p = 0, vv = 0, ff = 0;
    for (let k = 0; k < 3 * n; k++) { p += f[k] * v[k]; vv += v[k] * v[k]; ff += f[k] * f[k]; }
    if (p > 0) {
      const mix = ff > 0 ? (fs.alpha * Math.sqrt(vv)) / Math.sqrt(ff) : 0;
      for (let k = 0; k < 3 * n; k++) v[k] = (1 - fs.alpha) * v[k] + mix * f[k];
      if (fs.npos > FIRE.nMin) { fs.dt = Math.min(fs.dt * FIRE.fInc, s.fireDtMax); fs.alpha *= FIRE.fAlpha; }
      fs.npos++;
    } else {
      v.fill(0); fs.alpha = FIRE.alphaStart; fs.dt *= FIRE.fDec; fs.npos = 0;
    }
    for (let i = 0; i < n; i++) {
      let d2 = 0;
      for (let k = 0; k < 3; k++) { v[3 * i + k] += fs.dt * invMass[i] * f[3 * i + k]; d2 += (fs.dt * v[3 * i + k]) ** 2; }
      const cap = d2 > s.fireMaxStep ** 2 ? s.fireMaxStep / Math.sqrt(d2) : 1;
      for (let k = 0; k < 3; k++) x[3 * i + k] += cap * fs.dt * v[3 * i + k];
    }
    this.computeForces();
  }

  private thermostatEnergy(): number {
    const s = this.settings;
    if (s.ensemble === 'nvt-nhc') {
      const nf = degreesOfFreedom(s.ensemble, this.numAtoms);
      // The chain energy replaces the bookkeeping of scaled-away kinetic energy.
      return nhcEnergy(this.chain(), nf, this.kT(), nhcMasses(nf, this.kT(), s.tauT, s.nhcLength));
    }
    return this.heat;
  }

  async sample(): Promise<Sample> {
    return {
      step: this.stepCount, time: this.stepCount * this.settings.dt, epot: this.epot, ekin: this.ekin(),
      thermostatEnergy: this.thermostatEnergy(),
      virial: this.virial ? Float64Array.from(this.virial) : null,
      cell: this.cell ? Float64Array.from(this.cell) : null, volume: this.volume(),
      positions: Float64Array.from(this.x), velocities: Float64Array.from(this.v), forces: Float64Array.from(this.f),
      barostatAttempts: this.baro.attempts, barostatAccepted: this.baro.accepted,
      fault: this.fault ? { ...this.fault } : null,
      pullWork: this.pull?.work ?? 0,
    };
  }

  async run(nSteps: number, opts: RunOptions): Promise<void> {
    const end = this.stepCount + nSteps;
    while (this.stepCount < end) {
      this.advance();
      if (this.stepCount % opts.sampleEvery === 0 || this.stepCount === end) {
        if (opts.onSample(await this.sample()) === 'stop') return;
      }
    }
  }

  async checkpoint(): Promise<EngineCheckpoint> {
    const b = this.baro, fs = this.fire;
    const scalars = Float64Array.of(this.epot, this.heat, b.attempts, b.accepted, b.windowAttempts, b.windowAccepted,
      b.volumeScale, fs.dt, fs.alpha, fs.npos, this.virial ? 1 : 0, this.fault?.step ?? -1, this.fault?.atom ?? -1);
    const bytes = (a: Float64Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
    const blobs: Record<string, Uint8Array> = {
      positions: bytes(this.x), velocities: bytes(this.v), forces: bytes(this.f), scalars: bytes(scalars),
      xi: bytes(this.nhc.xi), vxi: bytes(this.nhc.vxi),
    };
    if (this.cell) blobs.cell = bytes(this.cell);
    if (this.virial) blobs.virial = bytes(Float64Array.from(this.virial));
    if (this.pull) blobs.pullState = bytes(this.pull.save());
    const sys = this.system;
    return {
      backend: 'cpu', step: this.stepCount, settings: { ...this.settings }, numbers: Array.from(sys.numbers),
      masses: Array.from(sys.masses), molecules: Array.from(sys.molecules), pbc: [...sys.pbc] as MdSystem['pbc'], blobs,
    };
  }

  /** Continue from a checkpoint (the provider must be the same model); resumes bit for bit. */
  static fromCheckpoint(ck: EngineCheckpoint, provider: CpuForceProvider): CpuMdEngine {
    if (ck.backend !== 'cpu') throw new Error(`checkpoint was written by the ${ck.backend} engine; resume it with --backend ${ck.backend}`);
    const f64 = (name: string) => {
      const b = ck.blobs[name];
      if (!b) throw new Error(`checkpoint is missing "${name}"`);
      return new Float64Array(b.slice().buffer);
    };
    const system: MdSystem = {
      numbers: Int32Array.from(ck.numbers), masses: Float64Array.from(ck.masses), positions: f64('positions'),
      velocities: f64('velocities'), cell: ck.blobs.cell ? f64('cell') : null, pbc: ck.pbc,
      molecules: Int32Array.from(ck.molecules),
    };
    const e = new CpuMdEngine(system, provider, { ...ck.settings }, false);
    e.f.set(f64('forces'));
    e.virial = ck.blobs.virial ? f64('virial') : null;
    e.nhc = { xi: f64('xi'), vxi: f64('vxi') };
    e.stepCount = ck.step;
    const sc = f64('scalars');
    e.epot = sc[0]; e.heat = sc[1];
    e.baro = { attempts: sc[2], accepted: sc[3], windowAttempts: sc[4], windowAccepted: sc[5], volumeScale: sc[6] };
    e.fire = { dt: sc[7], alpha: sc[8], npos: sc[9] };
    e.fault = sc.length > 12 && sc[11] >= 0 ? { step: sc[11], atom: sc[12] } : null;
    // The pull's work carries over; the pull itself is set again by the caller.
    if (ck.blobs.pullState) { e.pull = new PullAccumulator(e.x); e.pull.restore(f64('pullState')); }
    return e;
  }

  destroy(): void { /* nothing held */ }
}

/** Mass-weighted centre of every molecule (positions are never wrapped, so molecules stay whole). */
export function moleculeCentres(x: Float64Array, masses: Float64Array, molecules: Int32Array, m: number): Float64Array {
  const c = new Float64Array(3 * m), mt = new Float64Array(m);
  for (let i = 0; i < masses.length; i++) {
    const j = molecules[i];
    mt[j] += masses[i];
    for (let k = 0; k < 3; k++) c[3 * j + k] += masses[i] * x[3 * i + k];
  }
  for (let j = 0; j < m; j++) for (let k = 0; k < 3; k++) c[3 * j + k] /= mt[j];
  return c;
}
