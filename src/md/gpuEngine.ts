// The MD engine on WebGPU: state (positions, velocities, forces, thermostat/barostat/RNG state, box) lives in
// GPU buffers; every step is recorded into command encoders, many steps per submission, and samples come back
// through asynchronous buffer maps while later steps are already queued. Same algorithms and random-number
// counters as the float64 reference in src/md/cpuEngine.ts.
import commonSrc from '../../shaders/md/common.wgsl?raw';
import integratorBindingsSrc from '../../shaders/md/integrator_bindings.wgsl?raw';
import verletSrc from '../../shaders/md/verlet.wgsl?raw';
import langevinSrc from '../../shaders/md/langevin.wgsl?raw';
import kineticSrc from '../../shaders/md/kinetic.wgsl?raw';
import bussiSrc from '../../shaders/md/bussi.wgsl?raw';
import nhcSrc from '../../shaders/md/nhc.wgsl?raw';
import fireSrc from '../../shaders/md/fire.wgsl?raw';
import barostatSrc from '../../shaders/md/barostat.wgsl?raw';
import pullSrc from '../../shaders/md/pull.wgsl?raw';
import { setFields, SharedBindingShader, structView, uniformView } from '../gpu/reflect';
import { BOX_FLOATS, OUTPUT_FLOATS, boxData, type GpuForceProvider } from './forceProvider';
import { seedKey } from './rng';
import { checkPull, sameAtoms, type Pull } from './steering';
import { nhcEnergy, nhcMasses } from './thermostats';
import { AMU_A2_FS2_TO_EV, EV_PER_A3_TO_BAR, KB } from './units';
import {
  DEFAULT_MAX_FORCE, degreesOfFreedom, MAX_NHC, type EngineCheckpoint, type MdEngine, type MdSettings, type MdSystem, type RunOptions,
  type Sample,
} from './types';

/**
 * Bytes of the control buffer, its checkpoint blob and its part of a sample: the Control struct of common.wgsl
 * (240 bytes; field offsets are reflected from the WGSL) padded to 256, so that checkpoints keep their size.
 */
export const CONTROL_BYTES = 256;
const WATCH_BYTES = 16;

/** Declarations and the integrator bind group, ahead of every integrator family's kernels. */
const INTEGRATOR_HEADER = commonSrc + '\n' + integratorBindingsSrc;
/** Which buffers a family binds (see buildKernels): the integrators share one set, barostat and pull their own. */
type BindingSet = 'integrator' | 'barostat' | 'pull';
/** Each kernel family as compiled (header + kernels) and the entry points the engine dispatches. */
const FAMILIES: { name: string; code: string; set: BindingSet; entryPoints: string[] }[] = [
  { name: 'verlet', code: INTEGRATOR_HEADER + '\n' + verletSrc, set: 'integrator', entryPoints: ['kick_drift', 'kick', 'advance'] },
  { name: 'langevin', code: INTEGRATOR_HEADER + '\n' + langevinSrc, set: 'integrator', entryPoints: ['baoa'] },
  { name: 'kinetic', code: INTEGRATOR_HEADER + '\n' + kineticSrc, set: 'integrator', entryPoints: ['kinetic_energy', 'scale_velocities'] },
  { name: 'bussi', code: INTEGRATOR_HEADER + '\n' + bussiSrc, set: 'integrator', entryPoints: ['bussi_factor'] },
  { name: 'nhc', code: INTEGRATOR_HEADER + '\n' + nhcSrc, set: 'integrator', entryPoints: ['nhc_half_step'] },
  { name: 'fire', code: INTEGRATOR_HEADER + '\n' + fireSrc, set: 'integrator', entryPoints: ['fire_update', 'fire_move'] },
  { name: 'barostat', code: commonSrc + '\n' + barostatSrc, set: 'barostat', entryPoints: ['mc_propose', 'mc_scale', 'mc_accept', 'mc_restore'] },
  { name: 'pull', code: pullSrc, set: 'pull', entryPoints: ['pull_begin', 'pull', 'pull_force'] },
];

/** Run parameters laid out as `P` (struct Params) in the WGSL. */
const paramsView = () => uniformView(INTEGRATOR_HEADER, 'P');
/** The pull's target and stiffness laid out as `U` (struct PullParams) in pull.wgsl. */
const pullParamsView = () => uniformView(pullSrc, 'U');
/**
 * A view of the Control struct (common.wgsl, offsets reflected) on `raw` from byte `offset`, e.g. a checkpoint's
 * control blob; a fresh zeroed block by default.
 */
export const controlView = (raw = new ArrayBuffer(CONTROL_BYTES), offset = 0) => structView(INTEGRATOR_HEADER, 'Control', raw, offset);
/** Most steps recorded per submission, and submissions allowed in flight before the host waits. */
const BATCH_STEPS = 50;
const MAX_IN_FLIGHT = 2;
/**
 * GPU time one submission should take. Browsers and OS watchdogs reset a device whose work runs for seconds
 * without a break, and a long submission also stalls the page's rendering: a large system with a model gets
 * fewer steps per submission, a small Lennard-Jones box keeps BATCH_STEPS.
 */
export const SUBMISSION_BUDGET_MS = 100;

/** Steps for the next submission, from the measured GPU time per step (ms) of the last one. */
export function nextBatchSteps(msPerStep: number, budgetMs = SUBMISSION_BUDGET_MS, most = BATCH_STEPS): number {
  if (!(msPerStep > 0)) return most;
  return Math.max(1, Math.min(most, Math.floor(budgetMs / msPerStep)));
}
const MAX_SAMPLES_PER_BATCH = 16;

type Kernel = { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup };

interface PendingSample { staging: GPUBuffer; step: number }

/** The atoms of each molecule as CSR (m + 1 starts, then the atom indices), for the barostat. */
function moleculeIndex(molecules: ArrayLike<number>, m: number, n: number): Uint32Array<ArrayBuffer> {
  const counts = new Uint32Array(m + 1);
  for (let i = 0; i < molecules.length; i++) counts[molecules[i] + 1]++;
  for (let j = 0; j < m; j++) counts[j + 1] += counts[j];
  const molData = new Uint32Array(m + 1 + n);
  molData.set(counts);
  const fill = counts.slice(0, m);
  for (let i = 0; i < molecules.length; i++) molData[m + 1 + fill[molecules[i]]++] = i;
  return molData;
}

export class GpuMdEngine implements MdEngine {
  readonly backend = 'webgpu';
  readonly numAtoms: number;
  private hostStep = 0;
  private buffers!: {
    params: GPUBuffer; pos: GPUBuffer; vel: GPUBuffer; frc: GPUBuffer; invMass: GPUBuffer; ctl: GPUBuffer;
    box: GPUBuffer; out: GPUBuffer; mol: GPUBuffer; backup: GPUBuffer; watch: GPUBuffer;
    pullParams: GPUBuffer; pullSpec: GPUBuffer; pullState: GPUBuffer;
  };
  private k: Record<string, Kernel> = {};
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private stagingPool: GPUBuffer[] = [];
  private readonly sampleBytes: number;
  private readonly numMolecules: number;
  /** The pull kernels run every step once a pull has been set (a released pull still adds its last work). */
  private pullOn = false;
  private pullBegin = false;
  private pullNow: Pull | null = null;

  private constructor(readonly device: GPUDevice, readonly system: MdSystem, readonly provider: GpuForceProvider,
    readonly settings: MdSettings) {
    this.numAtoms = system.numbers.length;
    this.numMolecules = new Set(system.molecules).size;
    this.sampleBytes = 4 * 16 * this.numAtoms + CONTROL_BYTES + 4 * BOX_FLOATS + 4 * OUTPUT_FLOATS + WATCH_BYTES;
  }

  get step(): number { return this.hostStep; }

  /** GPU time per submission the step batching aims at, ms (0: one step per submission). */
  submissionBudgetMs = SUBMISSION_BUDGET_MS;
  /** Steps recorded into the next submission (adapted to submissionBudgetMs as the run goes). */
  stepsPerSubmission = 1;
  private lastDone = 0;

  static async create(device: GPUDevice, system: MdSystem, provider: GpuForceProvider, settings: MdSettings,
    restore?: EngineCheckpoint): Promise<GpuMdEngine> {
    if (settings.ensemble === 'npt' && !(system.cell && system.pbc.every(Boolean))) {
      throw new Error('npt needs a periodic cell (pbc T T T with a Lattice)');
    }
    if (!(settings.nhcLength >= 1 && settings.nhcLength <= MAX_NHC)) {
      throw new Error(`Nosé–Hoover chain length must be 1..${MAX_NHC}, got ${settings.nhcLength}`);
    }
    const e = new GpuMdEngine(device, system, provider, settings);
    await e.init(restore);
    return e;
  }

  private async init(restore?: EngineCheckpoint): Promise<void> {
    const d = this.device, sys = this.system, b = this.createBuffers();
    this.writeParams(b);
    if (restore) this.restoreState(b, restore);
    else this.writeInitialState(b);
    this.buildKernels();
    if (!restore) this.provider.checkSystem?.(sys.cell, sys.pbc);
    await this.provider.attach({
      device: d, numAtoms: this.numAtoms, numbers: sys.numbers, pbc: sys.pbc, positions: b.pos, forces: b.frc, box: b.box, output: b.out,
    });
    if (!restore) {
      this.encoder = d.createCommandEncoder();
      await this.force();
      this.submit();
    }
  }

  /** The engine's buffers (this.buffers), sized for the system. */
  private createBuffers(): GpuMdEngine['buffers'] {
    const d = this.device, n = this.numAtoms;
    const st = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buf = (size: number, usage = st, label?: string) => d.createBuffer({ size: Math.max(16, size), usage, label });
    this.buffers = {
      params: buf(paramsView().arrayBuffer.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'md params'),
      pos: buf(16 * n, st, 'md positions'), vel: buf(16 * n, st, 'md velocities'), frc: buf(16 * n, st, 'md forces'),
      invMass: buf(4 * n, st, 'md inverse masses'), ctl: buf(CONTROL_BYTES, st, 'md control'),
      box: buf(4 * BOX_FLOATS, st, 'md box'), out: buf(4 * OUTPUT_FLOATS, st, 'md energy/virial'),
      mol: buf(4 * (this.numMolecules + 1 + n), st, 'md molecules'), backup: buf(32 * n, st, 'md barostat backup'),
      watch: buf(WATCH_BYTES, st, 'md watchdog'),
      pullParams: buf(pullParamsView().arrayBuffer.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'md pull params'),
      pullSpec: buf(16 * n, st, 'md pull springs'), pullState: buf(48 * n, st, 'md pull state and work'),
    };
    return this.buffers;
  }

  /** Run parameters, inverse masses, the molecules (for the barostat) and an idle pull. */
  private writeParams(b: GpuMdEngine['buffers']): void {
    const n = this.numAtoms, m = this.numMolecules, s = this.settings, q = this.device.queue;
    const params = paramsView();
    const [k0, k1] = seedKey(s.seed);
    setFields(params, {
      n, n_mol: m, nhc_len: s.nhcLength, seed_lo: k0, seed_hi: k1,
      dt: s.dt, kT: KB * s.temperature, nf: degreesOfFreedom(s.ensemble, n), friction: s.friction, tau_t: s.tauT,
      pressure: s.pressure / EV_PER_A3_TO_BAR, fire_dt_max: s.fireDtMax, fire_max_step: s.fireMaxStep,
      max_force: s.maxForce ?? DEFAULT_MAX_FORCE,
    });
    q.writeBuffer(b.params, 0, params.arrayBuffer);
    q.writeBuffer(b.invMass, 0, Float32Array.from(this.system.masses, (mm) => 1 / (mm * AMU_A2_FS2_TO_EV)));
    q.writeBuffer(b.mol, 0, moleculeIndex(this.system.molecules, m, n));
    this.writePullParams([0, 0, 0], 0, false);
  }

  /** A checkpoint's engine state, as it was on the GPU. */
  private restoreState(b: GpuMdEngine['buffers'], restore: EngineCheckpoint): void {
    const q = this.device.queue;
    const blob = (name: string) => {
      const x = restore.blobs[name];
      if (!x) throw new Error(`checkpoint is missing "${name}"`);
      return new Uint8Array(x);
    };
    q.writeBuffer(b.pos, 0, blob('positions')); q.writeBuffer(b.vel, 0, blob('velocities'));
    q.writeBuffer(b.frc, 0, blob('forces')); q.writeBuffer(b.ctl, 0, blob('control'));
    q.writeBuffer(b.box, 0, blob('box')); q.writeBuffer(b.out, 0, blob('output'));
    if (restore.blobs.watch) q.writeBuffer(b.watch, 0, blob('watch'));
    // A checkpoint taken after a pull began carries the pull's work; the pull itself is set again by the caller.
    if (restore.blobs.pullState) { q.writeBuffer(b.pullState, 0, blob('pullState')); this.pullOn = true; }
    this.hostStep = restore.step;
  }

  /** The system's positions, velocities and box, and a fresh control block. */
  private writeInitialState(b: GpuMdEngine['buffers']): void {
    const q = this.device.queue, s = this.settings, sys = this.system;
    q.writeBuffer(b.pos, 0, toVec4(sys.positions, null));
    q.writeBuffer(b.vel, 0, toVec4(sys.velocities, null));
    q.writeBuffer(b.box, 0, boxData(sys.cell, sys.pbc));
    const ctl = controlView();
    // first trial volume step: 1 % of V
    setFields(ctl, { fire_dt: s.dt, fire_alpha: 0.1, mc_volume_scale: 0.01 * boxData(sys.cell, sys.pbc)[9] });
    q.writeBuffer(b.ctl, 0, ctl.arrayBuffer);
  }

  /** A pipeline per entry point; each family's bind group from its reflected bindings, by WGSL variable name. */
  private buildKernels(): void {
    const b = this.buffers;
    const sets: Record<BindingSet, Record<string, GPUBuffer>> = {
      integrator: { P: b.params, pos: b.pos, vel: b.vel, frc: b.frc, inv_mass: b.invMass, ctl: b.ctl, watch: b.watch },
      barostat: {
        P: b.params, pos: b.pos, frc: b.frc, inv_mass: b.invMass, ctl: b.ctl, box: b.box, out: b.out, mol: b.mol, backup: b.backup,
      },
      pull: { U: b.pullParams, pos: b.pos, frc: b.frc, spec: b.pullSpec, state: b.pullState },
    };
    for (const f of FAMILIES) {
      const shader = new SharedBindingShader(this.device, `shaders/md/${f.name}.wgsl`, f.code, f.entryPoints);
      const bindGroup = shader.bindGroup(sets[f.set]);
      for (const [entryPoint, pipeline] of shader.pipelines) this.k[entryPoint] = { pipeline, bindGroup };
    }
  }

  private dispatch(name: string, groups: number): void {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    const k = this.k[name];
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, k.bindGroup);
    this.pass.dispatchWorkgroups(groups);
  }

  private endPass(): GPUCommandEncoder {
    if (this.pass) { this.pass.end(); this.pass = null; }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private submit(): void {
    const enc = this.endPass();
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
  }

  private async force(): Promise<void> {
    if (this.provider.resident && this.provider.encodeInPass) {
      if (!this.encoder) this.encoder = this.device.createCommandEncoder();
      if (!this.pass) this.pass = this.encoder.beginComputePass();
      this.provider.encodeInPass(this.pass);
      return;
    }
    const enc = this.endPass();
    if (this.provider.resident) {
      this.provider.encode(enc);
    } else {
      this.submit();
      await this.provider.evaluate();
    }
  }

  /** Forces for the step: the provider's, then the pull's springs (and their work unless a barostat trial). */
  private async forceAndPull(trial = false): Promise<void> {
    await this.force();
    if (this.pullOn) this.dispatch(trial ? 'pull_force' : 'pull', Math.ceil(this.numAtoms / 64));
  }

  private writePullParams(target: ArrayLike<number>, stiffness: number, active: boolean): void {
    const u = pullParamsView();
    setFields(u, { anchor: [target[0], target[1], target[2], stiffness], n: this.numAtoms, enabled: active ? 1 : 0 });
    this.device.queue.writeBuffer(this.buffers.pullParams, 0, u.arrayBuffer);
  }

  /**
   * Start, move (same atoms, new target or stiffness) or end (null) the pull. Only uniforms and, for new atoms,
   * the per-atom springs are written; the steps recorded after this call see it.
   */
  setPull(p: Pull | null): void {
    if (p) checkPull(p, this.numAtoms);
    if (p && !sameAtoms(this.pullNow, p)) {
      const spec = new Float32Array(4 * this.numAtoms);
      p.atoms.forEach((a, j) => { spec.set([p.offsets[3 * j], p.offsets[3 * j + 1], p.offsets[3 * j + 2], 1], 4 * a); });
      this.device.queue.writeBuffer(this.buffers.pullSpec, 0, spec);
    }
    if (p) this.writePullParams(p.target, p.stiffness, true);
    else if (this.pullNow) this.writePullParams(this.pullNow.target, this.pullNow.stiffness, false);
    if (p && !this.pullOn) { this.pullOn = true; this.pullBegin = true; }
    this.pullNow = p ? { ...p, atoms: [...p.atoms], offsets: [...p.offsets], target: [...p.target] } : null;
  }

  /** After a barostat move: let a provider that holds the cell on the host read the new box. */
  private async boxChanged(): Promise<void> {
    if (!this.provider.syncBox) return;
    this.submit();
    await this.provider.syncBox();
  }

  private async encodeStep(): Promise<void> {
    const s = this.settings, atoms = Math.ceil(this.numAtoms / 64);
    if (this.pullBegin) { this.dispatch('pull_begin', atoms); this.pullBegin = false; }
    switch (s.ensemble) {
      case 'nve':
        this.dispatch('kick_drift', atoms); await this.forceAndPull(); this.dispatch('kick', atoms);
        break;
      case 'nvt-langevin':
      case 'npt':
        this.dispatch('baoa', atoms); await this.forceAndPull(); this.dispatch('kick', atoms);
        if (s.ensemble === 'npt' && (this.hostStep + 1) % s.barostatInterval === 0) {
          this.dispatch('mc_propose', 1); this.dispatch('mc_scale', Math.ceil(this.numMolecules / 64));
          await this.boxChanged();
          await this.forceAndPull(true);
          this.dispatch('mc_accept', 1); this.dispatch('mc_restore', atoms);
          await this.boxChanged();
        }
        break;
      case 'nvt-bussi':
        this.dispatch('kick_drift', atoms); await this.forceAndPull(); this.dispatch('kick', atoms);
        this.dispatch('kinetic_energy', 1); this.dispatch('bussi_factor', 1); this.dispatch('scale_velocities', atoms);
        break;
      case 'nvt-nhc':
        this.dispatch('kinetic_energy', 1); this.dispatch('nhc_half_step', 1); this.dispatch('scale_velocities', atoms);
        this.dispatch('kick_drift', atoms); await this.forceAndPull(); this.dispatch('kick', atoms);
        this.dispatch('kinetic_energy', 1); this.dispatch('nhc_half_step', 1); this.dispatch('scale_velocities', atoms);
        break;
      case 'minimize':
        this.dispatch('fire_update', 1); this.dispatch('fire_move', atoms); await this.forceAndPull();
        break;
    }
    this.dispatch('advance', 1);
    this.hostStep++;
  }

  private encodeSampleCopy(): GPUBuffer {
    const staging = this.stagingPool.pop() ?? this.device.createBuffer({
      size: this.sampleBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'md sample',
    });
    const enc = this.endPass(), b = this.buffers, n = this.numAtoms;
    let o = 0;
    for (const [src, size] of [[b.pos, 16 * n], [b.vel, 16 * n], [b.frc, 16 * n], [b.ctl, CONTROL_BYTES],
      [b.box, 4 * BOX_FLOATS], [b.out, 4 * OUTPUT_FLOATS], [b.watch, WATCH_BYTES]] as [GPUBuffer, number][]) {
      enc.copyBufferToBuffer(src, 0, staging, o, size);
      o += size;
    }
    enc.copyBufferToBuffer(b.pullState, 32 * n, staging, o, 16 * n); // the pull's work per atom
    return staging;
  }

  private async readSample(staging: GPUBuffer): Promise<Sample> {
    await staging.mapAsync(GPUMapMode.READ);
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    this.stagingPool.push(staging);
    return this.decode(raw);
  }

  private decode(raw: ArrayBuffer): Sample {
    const n = this.numAtoms, s = this.settings, masses = this.system.masses;
    const f32 = new Float32Array(raw);
    const from4 = (off: number) => {
      const a = new Float64Array(3 * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) a[3 * i + k] = f32[off + 4 * i + k];
      return a;
    };
    const positions = from4(0), velocities = from4(4 * n), forces = from4(8 * n);
    let ekin = 0, heat = 0;
    for (let i = 0; i < n; i++) {
      const o = 4 * n + 4 * i;
      ekin += 0.5 * masses[i] * AMU_A2_FS2_TO_EV * (f32[o] ** 2 + f32[o + 1] ** 2 + f32[o + 2] ** 2);
      heat += f32[o + 3];
    }
    const cOff = 12 * n, ctl = controlView(raw, 4 * cOff).views;
    const boxOff = cOff + CONTROL_BYTES / 4, outOff = boxOff + BOX_FLOATS;
    const box = f32.subarray(boxOff, boxOff + BOX_FLOATS), out = f32.subarray(outOff, outOff + OUTPUT_FLOATS);
    const watch = new Uint32Array(raw, 4 * (outOff + OUTPUT_FLOATS), 4);
    const workOff = outOff + OUTPUT_FLOATS + WATCH_BYTES / 4;
    let pullWork = 0;
    if (this.pullOn) for (let i = 0; i < n; i++) pullWork += f32[workOff + 4 * i] - f32[workOff + 4 * i + 1]; // sum − compensation
    let thermostatEnergy = heat;
    if (s.ensemble === 'nvt-nhc') {
      const nf = degreesOfFreedom(s.ensemble, n), kT = KB * s.temperature, m = s.nhcLength;
      const st = { xi: Float64Array.from(ctl.xi.subarray(0, m)), vxi: Float64Array.from(ctl.vxi.subarray(0, m)) };
      thermostatEnergy = nhcEnergy(st, nf, kT, nhcMasses(nf, kT, s.tauT, m));
    }
    return {
      step: ctl.step[0], time: ctl.step[0] * s.dt, epot: out[0], ekin, thermostatEnergy,
      virial: out[10] === 1 ? Float64Array.from(out.subarray(1, 10)) : null,
      cell: this.system.cell ? Float64Array.from(box.subarray(0, 9)) : null, volume: box[9],
      positions, velocities, forces, barostatAttempts: ctl.mc_attempts[0], barostatAccepted: ctl.mc_accepted[0],
      fault: watch[0] > 0 ? { step: watch[1] + 1, atom: watch[2] } : null,
      providerFault: this.provider.describeOutput?.(out) ?? null,
      pullWork,
    };
  }

  async sample(): Promise<Sample> {
    const staging = this.encodeSampleCopy();
    this.submit();
    return this.readSample(staging);
  }

  async run(nSteps: number, opts: RunOptions): Promise<void> {
    const end = this.hostStep + nSteps;
    let stopped = false;
    let delivery: Promise<void> = Promise.resolve();
    const inFlight: Promise<unknown>[] = [];
    let failure: unknown = null;
    while (this.hostStep < end && !stopped) {
      const pending: PendingSample[] = [];
      // At most MAX_SAMPLES_PER_BATCH staging copies per submission bounds host memory for large systems.
      const batchEnd = Math.min(end, this.hostStep + Math.min(this.stepsPerSubmission, MAX_SAMPLES_PER_BATCH * opts.sampleEvery));
      const batchSteps = batchEnd - this.hostStep;
      while (this.hostStep < batchEnd) {
        await this.encodeStep();
        if (this.hostStep % opts.sampleEvery === 0 || this.hostStep === end) {
          pending.push({ staging: this.encodeSampleCopy(), step: this.hostStep });
        }
      }
      const submitted = performance.now(); // GPU work of the batch starts here (host encoding excluded)
      this.submit();
      for (const p of pending) {
        const ready = this.readSample(p.staging);
        delivery = delivery.then(async () => {
          const smp = await ready;
          if (stopped) return;
          try {
            if (opts.onSample(smp) === 'stop') stopped = true;
          } catch (e) { failure = e; stopped = true; }
        });
      }
      // GPU time of this batch: from its submission, or from the end of the batch queued before it.
      inFlight.push(this.device.queue.onSubmittedWorkDone().then(() => {
        const now = performance.now();
        this.stepsPerSubmission = nextBatchSteps((now - Math.max(submitted, this.lastDone)) / batchSteps, this.submissionBudgetMs);
        this.lastDone = now;
      }));
      if (inFlight.length > MAX_IN_FLIGHT) await inFlight.shift();
    }
    await delivery;
    if (failure) throw failure;
  }

  async checkpoint(): Promise<EngineCheckpoint> {
    const b = this.buffers, n = this.numAtoms;
    const parts: [string, GPUBuffer, number][] = [['positions', b.pos, 16 * n], ['velocities', b.vel, 16 * n],
      ['forces', b.frc, 16 * n], ['control', b.ctl, CONTROL_BYTES], ['box', b.box, 4 * BOX_FLOATS],
      ['output', b.out, 4 * OUTPUT_FLOATS], ['watch', b.watch, WATCH_BYTES]];
    if (this.pullOn) parts.push(['pullState', b.pullState, 48 * n]);
    const total = parts.reduce((a, p) => a + p[2], 0);
    const staging = this.device.createBuffer({ size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    // A pull set since the last step has not started its work bookkeeping yet: start it before saving it.
    if (this.pullBegin) { this.dispatch('pull_begin', Math.ceil(n / 64)); this.pullBegin = false; }
    const enc = this.endPass();
    let o = 0;
    for (const [, src, size] of parts) { enc.copyBufferToBuffer(src, 0, staging, o, size); o += size; }
    this.submit();
    await staging.mapAsync(GPUMapMode.READ);
    const raw = new Uint8Array(staging.getMappedRange().slice(0));
    staging.unmap(); staging.destroy();
    const blobs: Record<string, Uint8Array> = {};
    o = 0;
    for (const [name, , size] of parts) { blobs[name] = raw.slice(o, o + size); o += size; }
    const sys = this.system;
    return {
      backend: 'webgpu', step: this.hostStep, settings: { ...this.settings }, numbers: Array.from(sys.numbers),
      masses: Array.from(sys.masses), molecules: Array.from(sys.molecules), pbc: [...sys.pbc] as MdSystem['pbc'], blobs,
    };
  }

  /** Continue from a checkpoint on `device` with the same force model: resumes bit for bit. */
  static async fromCheckpoint(device: GPUDevice, ck: EngineCheckpoint, provider: GpuForceProvider): Promise<GpuMdEngine> {
    if (ck.backend !== 'webgpu') throw new Error(`checkpoint was written by the ${ck.backend} engine; resume it with --backend ${ck.backend}`);
    const n = ck.numbers.length;
    const box = new Float32Array(ck.blobs.box.slice().buffer);
    const system: MdSystem = {
      numbers: Int32Array.from(ck.numbers), masses: Float64Array.from(ck.masses),
      positions: new Float64Array(3 * n), velocities: new Float64Array(3 * n),
      cell: box[9] > 0 ? Float64Array.from(box.subarray(0, 9)) : null, pbc: ck.pbc, molecules: Int32Array.from(ck.molecules),
    };
    return GpuMdEngine.create(device, system, provider, { ...ck.settings }, ck);
  }

  /**
   * Frees the engine's buffers and its force provider: the engine owns the provider it was built with (the workbench
   * builds a new one with every engine, so an engine that left it behind leaked its weights and activations).
   */
  destroy(): void {
    for (const b of Object.values(this.buffers ?? {})) b.destroy();
    for (const b of this.stagingPool) b.destroy();
    this.stagingPool = [];
    this.provider.destroy();
  }
}

/** N×3 float64 → N×vec4<f32> (w from `w` or 0). */
export function toVec4(a: Float64Array, w: Float64Array | null): Float32Array<ArrayBuffer> {
  const n = a.length / 3, out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    out[4 * i] = a[3 * i]; out[4 * i + 1] = a[3 * i + 1]; out[4 * i + 2] = a[3 * i + 2]; out[4 * i + 3] = w ? w[i] : 0;
  }
  return out;
}
