// `npm run md -- ...`: headless molecular dynamics with the same engine the browser runs (WebGPU through Dawn in
// Node, or the float64 CPU engine), thermo log, trajectory, checkpoints, safety stops and a JSON summary.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { readStructureFile } from '../io/readNode';
import type { Structure } from '../io/structure';
import { writeExtXyz } from '../io/xyz';
import { writePdb } from '../io/pdbWrite';
import { openTrajectory, TRAJECTORY_EXTENSIONS, trajectoryFormat } from './trajectoryOutput';
import { loadModelFromPath } from '../model/loadNode';
import { assertSystemSupported } from '../model/systemCheck';
import { acquireDevice } from '../gpu/device';
import { installNodeGpu } from '../md/nodeGpu';
import { AllScaipCpu } from '../md/allscaipCpu';
import { parseCheckpoint, serializeCheckpoint } from '../md/checkpointIo';
import { CpuMdEngine } from '../md/cpuEngine';
import { type CpuForceProvider, type GpuForceProvider } from '../md/forceProvider';
import { AllScaipWebGpu } from '../gpu/forceProvider';
import type { LoadedModel } from '../model/config';
import { GpuMdEngine } from '../md/gpuEngine';
import { ARGON, LennardJonesCpu, type LjParams } from '../md/lj';
import { LennardJonesGpu } from '../md/ljGpu';
import { driftStats, EnergyContinuity, formatDriftReport } from '../md/driftReport';
import { RunMonitor } from '../md/monitor';
import { csvHeader, csvLine } from '../md/observables';
import { defaultLimits } from '../md/safety';
import { ASE_TIME_FS, defaultTimeStep, systemFromStructure } from '../md/setup';
import { DEFAULT_SETTINGS, degreesOfFreedom, ENSEMBLES, type Ensemble, type MdEngine, type MdSettings, type Sample } from '../md/types';

export const MD_USAGE = `usage: npm run md -- --system <file> (--model <dir> | --potential lj) [options]

  --system <file>        structure: .xyz, .extxyz or .pdb (extXYZ velocities/momenta are used if present)
  --model <path>         AllScAIP model directory or model.json
  --potential lj         Lennard-Jones instead of a model: --lj-epsilon <eV> (default argon 0.010324),
                         --lj-sigma <Å> (3.405), --lj-cutoff <Å> (2.5σ), --lj-no-shift, --lj-tail
  --ensemble <name>      ${ENSEMBLES.join(' | ')} (default nve)
  --temperature <K>      target and initial temperature (default 300)
  --pressure <bar>       npt pressure (default 1)
  --dt <fs>              time step (default by element: 0.5 fs with H, 1 fs for light atoms, else 2 fs)
  --steps <n>            number of steps (default 1000)
  --seed <n>             random seed: initial velocities, Langevin/Bussi noise, barostat (default 1)
  --friction <1/fs>      Langevin friction (default 0.002)
  --tau <fs>             Bussi / Nosé–Hoover relaxation time (default 100)
  --barostat-every <n>   steps between Monte Carlo volume moves (default 25)
  --every <n>            sample, log and trajectory interval in steps (default 100)
  --log <file.csv>       thermo table (step, time, energies, T, P, V, density, steps/s, ns/day)
  --traj <file>          trajectory every --every steps, format by extension: .extxyz/.xyz (extXYZ with
                         energies, forces, momenta) or .dcd (CHARMM/NAMD DCD with the unit cell)
  --topology <file.pdb>  the first frame as PDB (elements, CRYST1 cell): the topology VMD, MDAnalysis and
                         mdtraj need to read a DCD
  --checkpoint <file>    write a checkpoint at the end (and every --checkpoint-every steps)
  --checkpoint-every <n>
  --resume <file>        continue from a checkpoint (same system and model; bit for bit unless --ensemble,
                         --temperature, --pressure, --dt, --friction, --tau or --barostat-every change it)
  --json <file>          summary: settings, averages, energy drift, speed, RDF/MSD, stop reason
  --rdf <Å>              accumulate g(r) per element pair up to this radius into the summary
  --backend <name>       webgpu (default; falls back to cpu when WebGPU is missing) or cpu
  --max-force <eV/Å>     stop when any force exceeds this (default 100)
  --max-temperature <K>  stop above this temperature (default max(10×T, 5000))
  --allow-untrained-elements
                         run elements missing from the model's "elements" list anyway (not predictions)
  -h, --help             show this help

Before the first step the structure is checked against the model (elements it was trained on, charge/spin it
can represent, atoms closer than half their covalent radii sum, a cell large enough for the cutoff); each
problem is an error (exit 1).

Units: Å, eV, fs, amu, K; pressure in bar.`;

export class MdUsageError extends Error {}

export interface MdArgs {
  system: string | null; model: string | null; potential: 'lj' | null;
  ljEpsilon: number; ljSigma: number; ljCutoff: number | null; ljShift: boolean; ljTail: boolean;
  ensemble: Ensemble; temperature: number; pressure: number; dt: number | null; steps: number; seed: number;
  friction: number; tau: number; barostatEvery: number; every: number;
  log: string | null; traj: string | null; topology: string | null; checkpoint: string | null; checkpointEvery: number | null; resume: string | null;
  json: string | null; rdf: number; backend: 'webgpu' | 'cpu'; maxForce: number; maxTemperature: number | null;
  /** Options given on the command line (on --resume they override the checkpoint's settings). */
  given: string[];
  allowUntrainedElements: boolean;
}

const FLAGS = new Set(['lj-no-shift', 'lj-tail', 'allow-untrained-elements']);

export function parseMdArgs(argv: string[]): MdArgs | null {
  const v: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '-h' || a === '--help') return null;
    if (!a.startsWith('--')) throw new MdUsageError(`unexpected argument "${a}"`);
    const name = a.slice(2);
    if (FLAGS.has(name)) { flags.add(name); continue; }
    if (i + 1 >= argv.length) throw new MdUsageError(`--${name} needs a value`);
    v[name] = argv[++i];
  }
  const known = new Set(['system', 'model', 'potential', 'lj-epsilon', 'lj-sigma', 'lj-cutoff', 'ensemble', 'temperature',
    'pressure', 'dt', 'steps', 'seed', 'friction', 'tau', 'barostat-every', 'every', 'log', 'traj', 'topology', 'checkpoint',
    'checkpoint-every', 'resume', 'json', 'rdf', 'backend', 'max-force', 'max-temperature']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw new MdUsageError(`unknown option --${k}`);
  const num = (k: string, def: number, opts: { positive?: boolean; integer?: boolean } = {}) => {
    if (v[k] === undefined) return def;
    const x = Number(v[k]);
    if (!Number.isFinite(x) || (opts.integer && !Number.isInteger(x)) || (opts.positive && !(x > 0))) {
      throw new MdUsageError(`--${k} needs a ${opts.positive ? 'positive ' : ''}${opts.integer ? 'whole ' : ''}number, got "${v[k]}"`);
    }
    return x;
  };
  const ensemble = (v.ensemble ?? 'nve') as Ensemble;
  if (!ENSEMBLES.includes(ensemble)) throw new MdUsageError(`--ensemble must be one of ${ENSEMBLES.join(', ')}, got "${v.ensemble}"`);
  const backend = (v.backend ?? 'webgpu') as MdArgs['backend'];
  if (backend !== 'webgpu' && backend !== 'cpu') throw new MdUsageError(`--backend must be webgpu or cpu, got "${v.backend}"`);
  if (v.potential !== undefined && v.potential !== 'lj') throw new MdUsageError(`--potential must be lj, got "${v.potential}"`);
  if (!v.resume && !v.system) throw new MdUsageError('--system is required (or --resume a checkpoint)');
  if (!v.model && v.potential !== 'lj') throw new MdUsageError('give --model <dir> or --potential lj');
  if (v.model && v.potential) throw new MdUsageError('give either --model or --potential, not both');
  if (v.topology !== undefined && !/\.(pdb|ent)$/i.test(v.topology)) throw new MdUsageError(`--topology ${v.topology}: the topology is written as PDB; give a .pdb file`);
  if (v.traj !== undefined && !trajectoryFormat(v.traj)) throw new MdUsageError(`--traj ${v.traj}: unknown trajectory format; use ${TRAJECTORY_EXTENSIONS}`);
  return {
    system: v.system ?? null, model: v.model ?? null, potential: v.potential === 'lj' ? 'lj' : null,
    ljEpsilon: num('lj-epsilon', ARGON.epsilon, { positive: true }), ljSigma: num('lj-sigma', ARGON.sigma, { positive: true }),
    ljCutoff: v['lj-cutoff'] !== undefined ? num('lj-cutoff', 0, { positive: true }) : null,
    ljShift: !flags.has('lj-no-shift'), ljTail: flags.has('lj-tail'), allowUntrainedElements: flags.has('allow-untrained-elements'),
    ensemble, temperature: num('temperature', 300), pressure: num('pressure', 1),
    dt: v.dt !== undefined ? num('dt', 0, { positive: true }) : null, steps: num('steps', 1000, { integer: true }),
    seed: num('seed', 1, { integer: true }), friction: num('friction', DEFAULT_SETTINGS.friction, { positive: true }),
    tau: num('tau', DEFAULT_SETTINGS.tauT, { positive: true }),
    barostatEvery: num('barostat-every', DEFAULT_SETTINGS.barostatInterval, { positive: true, integer: true }),
    every: num('every', 100, { positive: true, integer: true }), log: v.log ?? null, traj: v.traj ?? null, topology: v.topology ?? null,
    checkpoint: v.checkpoint ?? null,
    checkpointEvery: v['checkpoint-every'] !== undefined ? num('checkpoint-every', 0, { positive: true, integer: true }) : null,
    resume: v.resume ?? null, json: v.json ?? null, rdf: num('rdf', 0), backend,
    maxForce: num('max-force', 100, { positive: true }),
    maxTemperature: v['max-temperature'] !== undefined ? num('max-temperature', 0, { positive: true }) : null,
    given: Object.keys(v),
  };
}

export interface MdIo { log(s: string): void; error(s: string): void; progress(s: string): void; isTty: boolean }
const defaultIo: MdIo = {
  log: (s) => console.log(s), error: (s) => console.error(s),
  progress: (s) => process.stderr.write(s), isTty: !!process.stderr.isTTY,
};

function readSystem(path: string): Structure {
  const frames = readStructureFile(path);
  return frames[frames.length - 1];
}

function frameOf(s: Sample, numbers: Int32Array, masses: Float64Array, pbc: Structure['pbc']): Structure {
  // ASE keeps momenta (amu·Å per ASE time unit) and reads them back into Atoms.
  const momenta = Float64Array.from(s.velocities, (x, k) => x * ASE_TIME_FS * masses[Math.floor(k / 3)]);
  return {
    numbers, positions: s.positions, cell: s.cell, pbc, charge: 0, spin: 1,
    info: { step: s.step, time_fs: s.time, energy: s.epot },
    arrays: { momenta, forces: s.forces },
  };
}

async function gpuDevice(): Promise<{ device: GPUDevice; description: string; destroy(): void }> {
  await installNodeGpu();
  const ctx = await acquireDevice();
  return { device: ctx.device, description: ctx.adapterDescription, destroy: () => ctx.destroy() };
}

/** A checkpoint's settings with the options given on this command line (changing them ends bit-for-bit continuation). */
function resumeSettings(old: MdSettings, a: MdArgs): MdSettings {
  const s = { ...old };
  const g = new Set(a.given);
  if (g.has('ensemble')) s.ensemble = a.ensemble;
  if (g.has('temperature')) s.temperature = a.temperature;
  if (g.has('pressure')) s.pressure = a.pressure;
  if (g.has('dt') && a.dt !== null) s.dt = a.dt;
  if (g.has('friction')) s.friction = a.friction;
  if (g.has('tau')) s.tauT = a.tau;
  if (g.has('barostat-every')) s.barostatInterval = a.barostatEvery;
  if (g.has('max-force')) s.maxForce = a.maxForce;
  return s;
}

export async function runMd(argv: string[], io: MdIo = defaultIo): Promise<number> {
  let args: MdArgs | null;
  try { args = parseMdArgs(argv); } catch (e) {
    if (e instanceof MdUsageError) { io.error(`error: ${e.message}\n\n${MD_USAGE}`); return 2; }
    throw e;
  }
  if (!args) { io.log(MD_USAGE); return 0; }
  let gpu: Awaited<ReturnType<typeof gpuDevice>> | null = null;
  let engine: MdEngine | null = null;
  try {
    const resume = args.resume ? parseCheckpoint(readFileSync(args.resume, 'utf8'), args.resume) : null;
    const structure = args.system ? readSystem(args.system) : null;
    const numbers = resume ? Int32Array.from(resume.numbers) : Int32Array.from(structure!.numbers);
    const settings: MdSettings = resume ? resumeSettings(resume.settings, args) : {
      ...DEFAULT_SETTINGS, ensemble: args.ensemble, dt: args.dt ?? defaultTimeStep(numbers), temperature: args.temperature,
      pressure: args.pressure, seed: args.seed, friction: args.friction, tauT: args.tau, barostatInterval: args.barostatEvery,
      maxForce: args.maxForce,
    };
    if (resume && structure && structure.numbers.length !== numbers.length) {
      throw new Error(`${args.resume}: the checkpoint has ${numbers.length} atoms but ${args.system} has ${structure.numbers.length}`);
    }
    if (settings.dt > 0.5 && numbers.includes(1)) io.error(`warning: dt = ${settings.dt} fs with hydrogen present; ≤ 0.5 fs is safe`);

    // Force provider.
    let cpuProvider: CpuForceProvider;
    let ljParams: LjParams | null = null;
    let model: LoadedModel | null = null;
    if (args.potential === 'lj') {
      const species = { epsilon: args.ljEpsilon, sigma: args.ljSigma };
      ljParams = { species: {}, default: species, cutoff: args.ljCutoff ?? 2.5 * args.ljSigma, shift: args.ljShift, tailCorrection: args.ljTail };
      cpuProvider = new LennardJonesCpu(numbers, ljParams);
    } else {
      model = await loadModelFromPath(args.model!);
      // Refuse what the model cannot compute before any step (UnsupportedSystemError lists every problem).
      // A run resumed without --system was checked when it started.
      if (structure) {
        const warnings = assertSystemSupported(structure, model.config, { allowUntrainedElements: args.allowUntrainedElements });
        const unlisted = warnings.some((w) => w.kind === 'unknown-elements');
        for (const w of model.warnings ?? []) if (!unlisted) io.error(`warning: ${w}`);
        for (const w of warnings) io.error(`warning: ${w.message}`);
      }
      cpuProvider = new AllScaipCpu(model, numbers, structure?.charge ?? 0, structure?.spin ?? 1);
    }

    // Backend: WebGPU unless asked otherwise or unavailable.
    let backend = resume ? resume.backend : args.backend;
    if (backend === 'webgpu') {
      try { gpu = await gpuDevice(); } catch (e) {
        if (resume) throw new Error(`the checkpoint needs WebGPU, which is unavailable here: ${(e as Error).message}`);
        io.error(`warning: WebGPU unavailable (${(e as Error).message}); running on the float64 CPU engine`);
        backend = 'cpu';
      }
    }
    if (backend === 'webgpu') {
      const provider: GpuForceProvider = ljParams ? new LennardJonesGpu(numbers, ljParams)
        : new AllScaipWebGpu(model!, structure?.charge ?? 0, structure?.spin ?? 1);
      if (resume) engine = await GpuMdEngine.fromCheckpoint(gpu!.device, { ...resume, settings }, provider);
      else {
        const system = systemFromStructure(structure!, { temperature: args.temperature, seed: args.seed });
        engine = await GpuMdEngine.create(gpu!.device, system, provider, settings);
      }
    } else {
      // The engine runs the settings resumeSettings() made (the checkpoint's, overridden by the command line).
      engine = resume ? CpuMdEngine.fromCheckpoint({ ...resume, settings }, cpuProvider)
        : new CpuMdEngine(systemFromStructure(structure!, { temperature: args.temperature, seed: args.seed }), cpuProvider, settings);
    }
    const eng = engine;
    const masses = resume ? Float64Array.from(resume.masses) : (eng as CpuMdEngine | GpuMdEngine).system.masses;
    const pbc = resume ? resume.pbc : structure!.pbc;
    const dof = degreesOfFreedom(settings.ensemble, numbers.length);
    const limits = { ...defaultLimits(settings.temperature), maxForce: args.maxForce };
    if (args.maxTemperature) limits.maxTemperature = args.maxTemperature;

    // Outputs.
    const startStep = eng.step, endStep = startStep + args.steps;
    if (args.log && !resume) writeFileSync(args.log, csvHeader() + '\n');
    if (args.log && resume) appendFileSync(args.log, '');
    // A resumed run continues the trajectory file it was given.
    const traj = args.traj ? openTrajectory(args.traj, { append: resume !== null, stepInterval: args.every, timeStep_fs: settings.dt, warn: io.error }) : null;
    let lastWritten = -1;
    const writeFrame = (s: Sample) => {
      if (!traj || s.step === lastWritten) return;
      traj.write(frameOf(s, numbers, masses, pbc), s.step);
      lastWritten = s.step;
    };
    const t0 = performance.now();
    const monitor = new RunMonitor({ numbers, masses, dof, dt: settings.dt }, limits, startStep, (row, s) => {
      // A resumed run's first sample repeats the checkpointed step already in the log and trajectory.
      const repeat = resume !== null && s.step === startStep;
      if (args!.log && !repeat) appendFileSync(args!.log, csvLine(row) + '\n');
      if (!repeat && (s.step % args!.every === 0 || s.step === endStep)) writeFrame(s);
      if (io.isTty) {
        const frac = (s.step - startStep) / Math.max(1, args!.steps), w = 30, fill = Math.round(frac * w);
        io.progress(`\r[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${(100 * frac).toFixed(0).padStart(3)}%  step ${s.step}/${endStep}` +
          `  T ${row.temperature_K.toFixed(1)} K  E ${row.etot_eV.toFixed(4)} eV  ${row.steps_per_s.toFixed(0)} steps/s `);
      }
    }, args.rdf);
    if (ljParams && settings.ensemble === 'npt') {
      // The barostat may shrink the box below twice the cutoff, where the minimum image breaks down.
      const rc = ljParams.cutoff;
      monitor.extraCheck = (s) => {
        if (!s.cell) return null;
        const half = 0.5 * Math.min(s.cell[0], s.cell[4], s.cell[8]);
        return rc > half ? `the box shrank to a half-length of ${half.toFixed(3)} Å, below the LJ cutoff ${rc} Å; use a larger system or a shorter --lj-cutoff` : null;
      };
    }
    // NVE energy conservation: the float64 engine hands over every step's positions and forces for the continuity
    // check; on WebGPU they stay on the GPU between samples, so only consecutive samples (--every 1) are compared.
    const continuity = settings.ensemble === 'nve' ? new EnergyContinuity(pbc) : null;
    const perStep = continuity !== null && eng instanceof CpuMdEngine;
    if (perStep) (eng as CpuMdEngine).onStep = (step, x, f, e, cell) => continuity!.add(step, x, f, e, cell);
    const accept = (s: Sample): 'stop' | void => {
      const r = monitor.accept(s);
      if (r !== 'stop' && continuity && (!perStep || s.step === startStep)) continuity.add(s.step, s.positions, s.forces, s.epot, s.cell);
      return r;
    };
    const initial = await eng.sample();
    if (args.topology) writeFileSync(args.topology, writePdb(frameOf(initial, numbers, masses, pbc), `npm run md step ${initial.step}`));
    accept(initial);
    const chunk = args.checkpointEvery ?? args.steps;
    while (eng.step < endStep && !monitor.failure) {
      await eng.run(Math.min(chunk, endStep - eng.step), { sampleEvery: args.every, onSample: accept });
      if (args.checkpoint && !monitor.failure) writeFileSync(args.checkpoint, serializeCheckpoint(await eng.checkpoint()));
    }
    if (io.isTty) io.progress('\n');
    const wall = (performance.now() - t0) / 1000;
    const done = (monitor.lastGood?.step ?? startStep) - startStep;
    const stepsPerS = done / wall;
    let code = 0;
    let lastGoodFile: string | null = null;
    if (monitor.failure) {
      if (monitor.lastGood) {
        if (args.traj) writeFrame(monitor.lastGood);
        lastGoodFile = args.traj ?? 'md-last-good.extxyz';
        if (!args.traj) writeFileSync(lastGoodFile, writeExtXyz(frameOf(monitor.lastGood, numbers, masses, pbc)));
      }
      io.error(`error: ${monitor.failure.message}${lastGoodFile ? ` (saved in ${lastGoodFile})` : ''}`);
      code = 3;
    }
    const rows = monitor.rows.slice(1);
    const avg = (k: keyof (typeof rows)[number]) => rows.length ? rows.reduce((a, r) => a + (r[k] as number), 0) / rows.length : NaN;
    const summary = {
      backend: eng.backend, device: gpu?.description ?? 'CPU (float64)', force_provider: ljParams ? 'lennard-jones' : 'allscaip',
      force_provider_name: (eng as CpuMdEngine | GpuMdEngine).provider.name,
      settings, atoms: numbers.length, steps_done: done, first_step: startStep, last_step: monitor.lastGood?.step ?? startStep,
      wall_s: wall, steps_per_s: stepsPerS, ns_per_day: (stepsPerS * settings.dt * 86400) / 1e6,
      averages: { temperature_K: avg('temperature_K'), epot_eV: avg('epot_eV'), etot_eV: avg('etot_eV'), pressure_bar: avg('pressure_bar'),
        volume_A3: avg('volume_A3'), density_g_cm3: avg('density_g_cm3') },
      energy_drift: monitor.drift.report(),
      nve_report: continuity ? {
        ...driftStats(monitor.rows.map((r) => r.time_ps), monitor.rows.map((r) => r.etot_eV), monitor.rows.map((r) => r.ekin_eV), numbers.length),
        continuity: continuity.stats(),
        continuity_source: perStep ? 'every step (float64 engine)' : 'consecutive samples only (WebGPU: use --every 1 for every step)',
      } : null,
      barostat: monitor.lastGood && monitor.lastGood.barostatAttempts > 0
        ? { attempts: monitor.lastGood.barostatAttempts, acceptance: monitor.lastGood.barostatAccepted / monitor.lastGood.barostatAttempts } : null,
      rdf: monitor.rdf?.result() ?? null,
      msd_final_A2: monitor.msd.series.at(-1)?.msd ?? null,
      stopped: monitor.failure ? { message: monitor.failure.message, step: monitor.failure.step, atoms: monitor.failure.atoms, last_good_frame: lastGoodFile } : null,
    };
    if (args.json) writeFileSync(args.json, JSON.stringify(summary, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n');
    const d = summary.energy_drift;
    io.log(`${done} steps of ${settings.ensemble} (${settings.dt} fs) on ${summary.device}: ${stepsPerS.toFixed(1)} steps/s, ` +
      `${summary.ns_per_day.toFixed(3)} ns/day` + (rows.length ? `; ⟨T⟩ = ${summary.averages.temperature_K.toFixed(2)} K` : '') +
      (d ? `; drift ${d.meV_per_atom_per_ps.toExponential(3)} meV/atom/ps` : ''));
    const nveDrift = continuity ? driftStats(monitor.rows.map((r) => r.time_ps), monitor.rows.map((r) => r.etot_eV), monitor.rows.map((r) => r.ekin_eV), numbers.length) : null;
    if (nveDrift) io.log(formatDriftReport(nveDrift, continuity!.stats()));
    return code;
  } catch (e) {
    io.error(`error: ${(e as Error).message}`);
    return 1;
  } finally {
    engine?.destroy();
    gpu?.destroy();
  }
}
