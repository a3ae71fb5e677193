// Issue 16's physics checks of the organic-molecule model with the project's own engine (`npm run md`, float64 CPU
// engine, called in-process through runMd): for every built-in molecule NVT at 300 K and the bond check on every
// sampled frame; then NVE of ethanol from its NVT end state (drift, σ(E_kin), mlipaudit ratio) and the VDOS of that
// run against xtb's harmonic frequencies at the GFN2-xTB minimum. Resumable: runs go in chunks that end in a
// checkpoint, and a rerun continues every unfinished run from its last one (working files under
// training/runs/organics-checks/<model>-<hash>[-webgpu]/, git-ignored). Writes docs/validation/organics-checks.json.
//
//   npx vite-node scripts/organics-checks.ts -- [--model public/models/organics-gfn2-small] [--ps 10 | --ps ethanol=10,aspirin=2]
//     [--nve-ps 5] [--molecules ethanol,acetate] [--until 08:33] [--no-nve] [--backend cpu|webgpu] [--report-only] [--out file.json]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runMd, type MdIo } from '../src/cli/mdCommand';
import { readXyz } from '../src/io/xyz';
import { loadModelFromPath } from '../src/model/loadNode';
import { AllScaipCpu } from '../src/md/allscaipCpu';
import { readStructureFile } from '../src/io/readNode';
import { atomicMass } from '../src/io/elements';
import { parseCheckpoint } from '../src/md/checkpointIo';
import { driftStats } from '../src/md/driftReport';
import { degreesOfFreedom } from '../src/md/types';
import { kineticEnergy, temperatureFromKinetic } from '../src/md/units';
import { vdosFromVelocities, vdosPeaks } from '../src/md/vdos';
import { BOND_FACTOR, BOND_TOLERANCE, checkBonds, harmonicWavenumbers, matchPeaks, OrganicsCheckError, parseVibspectrum, readTrajectory,
  truncateTrajectory, type BondEvent, type TrajFrame } from './organics-checks.lib';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const MOLECULES = ['ethanol', 'acetate', 'paracetamol', 'aspirin', 'caffeine'];
const TEMPERATURE_K = 300, DT_FS = 0.5, TAU_FS = 100;
const NVT_EVERY = 20; // a frame every 10 fs for the bond check
const NVE_EVERY = 2; // velocities every 1 fs for the VDOS (Nyquist 16,700 cm⁻¹)
const NVE_MOLECULE = 'ethanol';

const USAGE = `usage: npx vite-node scripts/organics-checks.ts -- [options]
  --model <dir>        model directory (default public/models/organics-gfn2-small)
  --ps <x>             NVT length per molecule in ps (default 10); or per molecule: --ps ethanol=10,aspirin=2
                       (molecules not named keep 10)
  --nve-ps <x>         NVE length of ${NVE_MOLECULE} from its NVT end state, ps (default 5)
  --molecules <list>   molecules to run now (default all: ${MOLECULES.join(',')}); the report covers all
  --no-nve             skip the NVE run and VDOS in this invocation
  --until <HH:MM>      start no new chunk after this UTC time (today); the report states the lengths run
  --chunk <steps>      steps between checkpoints (default 400)
  --backend <name>     cpu (float64 engine, default) or webgpu (float32 GPU-resident engine; the run stops if WebGPU
                       is missing rather than falling back); each backend has its own working files
  --seed <n>           initial velocities and thermostat noise (default 1)
  --report-only        run nothing; write the report from what the working files hold
  --out <file>         report (default docs/validation/organics-checks.json)
  --work <dir>         working files (default training/runs/organics-checks)`;

interface Options {
  model: string; nvtPs: Record<string, number>; nvePs: number; molecules: string[]; nve: boolean; until: number | null;
  chunk: number; seed: number; reportOnly: boolean; out: string; work: string; backend: 'cpu' | 'webgpu';
}

function parseArgs(argv: string[]): Options | null {
  const o: Options = { model: 'public/models/organics-gfn2-small', nvtPs: Object.fromEntries(MOLECULES.map((m) => [m, 10])), nvePs: 5,
    molecules: [...MOLECULES], nve: true, until: null, chunk: 400, seed: 1, reportOnly: false,
    out: 'docs/validation/organics-checks.json', work: 'training/runs/organics-checks', backend: 'cpu' };
  const positive = (name: string, s: string | undefined) => {
    const x = Number(s);
    if (s === undefined || !(x > 0) || !Number.isFinite(x)) throw new OrganicsCheckError(`--${name} needs a positive number, got "${s}"`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new OrganicsCheckError(`${a} needs a value`); return argv[++i]; };
    if (a === '--') continue;
    else if (a === '-h' || a === '--help') return null;
    else if (a === '--model') o.model = val();
    else if (a === '--ps') {
      const v = val();
      if (!v.includes('=')) { const x = positive('ps', v); for (const m of MOLECULES) o.nvtPs[m] = x; continue; }
      for (const part of v.split(',')) {
        const [m, x] = part.split('=');
        if (!MOLECULES.includes(m)) throw new OrganicsCheckError(`--ps: unknown molecule "${m}" (built-ins: ${MOLECULES.join(', ')})`);
        o.nvtPs[m] = positive('ps', x);
      }
    } else if (a === '--nve-ps') o.nvePs = positive('nve-ps', val());
    else if (a === '--molecules') {
      o.molecules = val().split(',');
      for (const m of o.molecules) if (!MOLECULES.includes(m)) throw new OrganicsCheckError(`--molecules: unknown molecule "${m}" (built-ins: ${MOLECULES.join(', ')})`);
    } else if (a === '--no-nve') o.nve = false;
    else if (a === '--until') {
      const v = val(), m = /^(\d\d?):(\d\d)$/.exec(v);
      if (!m) throw new OrganicsCheckError(`--until needs HH:MM (UTC), got "${v}"`);
      const d = new Date(); d.setUTCHours(Number(m[1]), Number(m[2]), 0, 0);
      o.until = d.getTime();
    } else if (a === '--chunk') {
      o.chunk = positive('chunk', val());
      if (!Number.isInteger(o.chunk) || o.chunk % NVT_EVERY !== 0) throw new OrganicsCheckError(`--chunk must be a whole multiple of ${NVT_EVERY} steps`);
    } else if (a === '--seed') o.seed = Math.round(positive('seed', val()));
    else if (a === '--report-only') o.reportOnly = true;
    else if (a === '--out') o.out = val();
    else if (a === '--work') o.work = val();
    else if (a === '--backend') {
      const v = val();
      if (v !== 'cpu' && v !== 'webgpu') throw new OrganicsCheckError(`--backend must be cpu or webgpu, got "${v}"`);
      o.backend = v;
    }
    else throw new OrganicsCheckError(`unknown option ${a}\n\n${USAGE}`);
  }
  return o;
}

/** Working files belong to one model: its directory name and a hash of its files (interim and final never mix). */
function modelId(dir: string): { name: string; hash: string; commit: string | null } {
  if (!existsSync(join(dir, 'model.json'))) throw new OrganicsCheckError(`${dir}: no model.json (give --model <model directory>)`);
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isFile() && f !== 'card.md' && f !== 'metrics.json') { h.update(f); h.update(readFileSync(p)); }
  }
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['log', '-1', '--format=%h', '--', join(dir, 'model.json')], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch { commit = null; }
  return { name: basename(resolve(dir)), hash: h.digest('hex').slice(0, 12), commit };
}

interface Segment { from_step: number; to_step: number; wall_s: number; code: number; stopped: string | null }
interface RunMeta { phase: 'nvt' | 'nve'; start_step: number; target_steps: number; segments: Segment[]; stopped: string | null; from_nvt_step?: number }

const stepsFor = (ps: number) => Math.round((ps * 1000) / DT_FS);
const systemFile = (m: string) => join(ROOT, 'public/systems', `${m}.xyz`);

function readJson<T>(p: string): T | null { return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as T : null; }
function writeJsonAtomic(p: string, x: unknown): void {
  const tmp = `${p}.tmp${process.pid}`;
  writeFileSync(tmp, JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  renameSync(tmp, p);
}

const quietIo = (tag: string, errors: string[]): MdIo => ({
  log: (s) => console.log(`[${tag}] ${s.split('\n')[0]}`),
  error: (s) => { errors.push(s); console.error(`[${tag}] ${s}`); },
  progress: () => {}, isTty: false,
});

/**
 * Runs (or continues) one phase of a molecule to `targetSteps` steps past its start, chunk by chunk, each chunk one
 * `npm run md` invocation that resumes the last checkpoint. The NVE phase starts from the NVT checkpoint.
 */
async function runPhase(o: Options, model: string, dir: string, mol: string, phase: 'nvt' | 'nve', targetSteps: number): Promise<RunMeta> {
  const ckpt = join(dir, `${phase}.ckpt.json`), traj = join(dir, `${phase}.extxyz`), metaFile = join(dir, `${phase}.meta.json`);
  const every = phase === 'nvt' ? NVT_EVERY : NVE_EVERY;
  let meta = readJson<RunMeta>(metaFile);
  if (!meta) {
    let start = 0;
    if (phase === 'nve') {
      const nvtCkpt = join(dir, 'nvt.ckpt.json');
      if (!existsSync(nvtCkpt)) throw new OrganicsCheckError(`${mol}: NVE needs the NVT end state, but ${nvtCkpt} is missing`);
      // The NVT end state with the ensemble set to NVE in the checkpoint itself: `npm run md --resume x --ensemble nve`
      // prints nve but the engine keeps the checkpoint's settings (CpuMdEngine.fromCheckpoint gets ck.settings).
      const ck = JSON.parse(readFileSync(nvtCkpt, 'utf8'));
      ck.settings.ensemble = 'nve';
      writeFileSync(join(dir, 'nve-start.ckpt.json'), JSON.stringify(ck));
      start = parseCheckpoint(readFileSync(nvtCkpt, 'utf8'), nvtCkpt).step;
    }
    meta = { phase, start_step: start, target_steps: targetSteps, segments: [], stopped: null, ...(phase === 'nve' ? { from_nvt_step: start } : {}) };
  }
  meta.target_steps = targetSteps;
  writeJsonAtomic(metaFile, meta);
  for (;;) {
    const cur = existsSync(ckpt) ? parseCheckpoint(readFileSync(ckpt, 'utf8'), ckpt).step : meta.start_step;
    const end = meta.start_step + targetSteps;
    if (cur >= end || meta.stopped) break;
    if (o.until !== null && Date.now() > o.until) { console.log(`[${mol} ${phase}] --until reached at step ${cur} of ${end}`); break; }
    // frames written after the checkpoint by a run that was killed are written again by the resumed run
    if (existsSync(traj)) writeFileSync(traj, truncateTrajectory(readFileSync(traj, 'utf8'), cur));
    const n = Math.min(o.chunk - (cur % o.chunk || 0) || o.chunk, end - cur);
    const segJson = join(dir, `${phase}.segment.json`);
    const args = ['--system', systemFile(mol), '--model', model, '--backend', o.backend, '--every', String(every), '--traj', traj,
      '--checkpoint', ckpt, '--json', segJson, '--steps', String(n)];
    if (existsSync(ckpt)) args.push('--resume', ckpt);
    else if (phase === 'nvt') {
      args.push('--ensemble', 'nvt-bussi', '--temperature', String(TEMPERATURE_K), '--dt', String(DT_FS), '--tau', String(TAU_FS), '--seed', String(o.seed));
    } else args.push('--resume', join(dir, 'nve-start.ckpt.json'));
    const errors: string[] = [];
    if (existsSync(segJson)) rmSync(segJson);
    const code = await runMd(args, quietIo(`${mol} ${phase}`, errors));
    const seg = readJson<{ wall_s: number; stopped: { message: string } | null; last_step: number; backend?: string }>(segJson);
    if (code !== 0 && code !== 3) throw new OrganicsCheckError(`${mol} ${phase}: npm run md ${args.join(' ')} failed (exit ${code}): ${errors.join('; ')}`);
    // npm run md falls back to the CPU engine without WebGPU: a webgpu run must not become a CPU one unnoticed
    if (seg?.backend && seg.backend !== o.backend) {
      throw new OrganicsCheckError(`${mol} ${phase}: asked for --backend ${o.backend} but npm run md ran on ${seg.backend} (${errors.join('; ') || 'no WebGPU adapter?'})`);
    }
    const stopped = code === 3 ? (seg?.stopped?.message ?? errors.join('; ')) : null;
    meta.segments.push({ from_step: cur, to_step: seg?.last_step ?? cur, wall_s: seg?.wall_s ?? NaN, code, stopped });
    if (stopped) meta.stopped = stopped; // the engine's safety stop: the molecule flew apart; not retried
    writeJsonAtomic(metaFile, meta);
  }
  return meta;
}

/** Frames of a phase up to its checkpoint (what a resumed run keeps). */
function phaseFrames(dir: string, phase: 'nvt' | 'nve', masses: Float64Array): TrajFrame[] {
  const ckpt = join(dir, `${phase}.ckpt.json`), traj = join(dir, `${phase}.extxyz`);
  if (!existsSync(traj)) return [];
  const text = readFileSync(traj, 'utf8');
  const meta = readJson<RunMeta>(join(dir, `${phase}.meta.json`));
  // a stopped run has no final checkpoint: its frames up to the stop count (they show the failure)
  const upTo = meta?.stopped ? Infinity : existsSync(ckpt) ? parseCheckpoint(readFileSync(ckpt, 'utf8'), ckpt).step : -1;
  return readTrajectory(upTo === Infinity ? text : truncateTrajectory(text, upTo), masses, traj);
}

function temperatures(frames: TrajFrame[], masses: Float64Array, dof: number): number[] {
  return frames.map((f) => temperatureFromKinetic(kineticEnergy(masses, f.velocities), dof));
}
const mean = (x: number[]) => (x.length ? x.reduce((a, b) => a + b, 0) / x.length : NaN);
const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toPrecision(d)) : x);
const roundEvent = (e: BondEvent): BondEvent => ({ ...e, r: round(e.r), ...(e.r0 !== undefined ? { r0: round(e.r0), relative: round(e.relative!) } : {}) });

/** xtb's harmonic frequencies at the file's geometry (GFN2, the teacher), cached in the working folder. */
function harmonicModes(work: string, mol: string): { modes: ReturnType<typeof parseVibspectrum>; command: string } {
  const cache = join(work, `xtb-hess-${mol}.vibspectrum`);
  const s = readStructureFile(systemFile(mol))[0];
  const command = `xtb ${mol}.xyz --hess --gfn 2 --chrg ${s.charge} --uhf ${s.spin - 1} (OMP_NUM_THREADS=1, geometry of public/systems/${mol}.xyz as is)`;
  if (!existsSync(cache)) {
    const tmp = mkdtempSync(join(tmpdir(), 'organics-hess-'));
    try {
      const lines = [String(s.numbers.length), `${mol} (public/systems/${mol}.xyz)`];
      const sym = readFileSync(systemFile(mol), 'utf8').split('\n').slice(2, 2 + s.numbers.length).map((l) => l.trim().split(/\s+/)[0]);
      for (let a = 0; a < s.numbers.length; a++) lines.push(`${sym[a]} ${s.positions[3 * a]} ${s.positions[3 * a + 1]} ${s.positions[3 * a + 2]}`);
      writeFileSync(join(tmp, `${mol}.xyz`), lines.join('\n') + '\n');
      execFileSync('xtb', [`${mol}.xyz`, '--hess', '--gfn', '2', '--chrg', String(s.charge), '--uhf', String(s.spin - 1)],
        { cwd: tmp, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
      copyFileSync(join(tmp, 'vibspectrum'), cache);
    } catch (e) {
      throw new OrganicsCheckError(`xtb --hess for ${mol} failed: ${(e as Error).message}`);
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  }
  return { modes: parseVibspectrum(readFileSync(cache, 'utf8')), command };
}

/**
 * The model's own harmonic wavenumbers (cm⁻¹; imaginary ones negative) at the model's minimum near the GFN2 one:
 * FIRE minimisation with npm run md (--ensemble minimize), then the Hessian by central differences of the float64
 * forces (±0.005 Å), mass-weighted; the six eigenvalues nearest zero (translations, rotations) are dropped. Tells
 * whether a VDOS peak away from the teacher's mode is the model's surface or the MD.
 */
async function modelHarmonic(model: string, dir: string, mol: string) {
  const cache = join(dir, 'model-hessian.json');
  const cached = readJson<{ wavenumbers_cm1: number[]; max_force_at_minimum_eV_A: number }>(cache);
  if (cached) return cached;
  const minTraj = join(dir, 'model-minimum.extxyz');
  const errors: string[] = [];
  const code = await runMd(['--system', systemFile(mol), '--model', model, '--backend', 'cpu', '--ensemble', 'minimize', '--steps', '600',
    '--every', '600', '--traj', minTraj], quietIo(`${mol} minimize`, errors));
  if (code !== 0) throw new OrganicsCheckError(`${mol}: minimisation with the model failed: ${errors.join('; ')}`);
  const frames = readXyz(readFileSync(minTraj, 'utf8'), minTraj);
  const last = frames[frames.length - 1];
  const s = readStructureFile(systemFile(mol))[0];
  const provider = new AllScaipCpu(await loadModelFromPath(model), s.numbers, s.charge, s.spin);
  const x0 = Float64Array.from(last.positions), n3 = x0.length, h = 0.005;
  const f0 = provider.compute(x0, null, [false, false, false], false).forces;
  const H = new Float64Array(n3 * n3);
  for (let i = 0; i < n3; i++) {
    const xp = Float64Array.from(x0), xm = Float64Array.from(x0);
    xp[i] += h; xm[i] -= h;
    const fp = provider.compute(xp, null, [false, false, false], false).forces, fm = provider.compute(xm, null, [false, false, false], false).forces;
    for (let j = 0; j < n3; j++) H[i * n3 + j] = -(fp[j] - fm[j]) / (2 * h);
  }
  const wn = harmonicWavenumbers(H, Float64Array.from(s.numbers, (z) => atomicMass(z)), 6);
  let fmax = 0;
  for (let a = 0; a < n3 / 3; a++) fmax = Math.max(fmax, Math.hypot(f0[3 * a], f0[3 * a + 1], f0[3 * a + 2]));
  const out = { wavenumbers_cm1: wn.map((w) => round(w, 5)), max_force_at_minimum_eV_A: round(fmax), method: 'npm run md --ensemble minimize (FIRE, 600 steps), ' +
    'central differences ±0.005 Å of the float64 forces, mass-weighted, 6 eigenvalues nearest zero dropped' };
  writeJsonAtomic(cache, out);
  return out;
}

function moleculeReport(o: Options, dir: string, mol: string) {
  const s = readStructureFile(systemFile(mol))[0];
  const masses = Float64Array.from(s.numbers, (z) => atomicMass(z));
  const n = s.numbers.length;
  const base = { atoms: n, charge: s.charge, spin: s.spin, nvt_ps_requested: o.nvtPs[mol] };
  const meta = readJson<RunMeta>(join(dir, 'nvt.meta.json'));
  if (!meta || !existsSync(join(dir, 'nvt.extxyz'))) return { ...base, status: 'not run' };
  const frames = phaseFrames(dir, 'nvt', masses);
  if (frames.length === 0) return { ...base, status: 'no frames yet' };
  const last = frames[frames.length - 1];
  const bonds = checkBonds(s.numbers, s.positions, frames.map((f) => ({ step: f.step, positions: f.positions })));
  const T = temperatures(frames.slice(1), masses, degreesOfFreedom('nvt-bussi', n));
  const secondHalf = T.slice(Math.floor(T.length / 2));
  const complete = !meta.stopped && last.step >= meta.start_step + stepsFor(o.nvtPs[mol]);
  return {
    ...base,
    status: meta.stopped ? 'stopped by the engine' : complete ? 'complete' : 'partial (a rerun continues it)',
    nvt_ps_run: round(last.time_fs / 1000, 6), steps: last.step, frames: frames.length,
    wall_s: round(meta.segments.reduce((a, g) => a + (g.wall_s || 0), 0)),
    s_per_step: round(meta.segments.reduce((a, g) => a + (g.wall_s || 0), 0) / Math.max(1, last.step)),
    mean_temperature_K: round(mean(T)), mean_temperature_second_half_K: round(mean(secondHalf)),
    engine_stop: meta.stopped,
    bonds: { ...bonds, max_relative_deviation: round(bonds.max_relative_deviation), worst: bonds.worst && roundEvent(bonds.worst),
      broken: bonds.broken.map(roundEvent), formed: bonds.formed.map(roundEvent) },
  };
}

async function nveReport(o: Options, model: string, work: string, dir: string) {
  const mol = NVE_MOLECULE;
  const s = readStructureFile(systemFile(mol))[0];
  const masses = Float64Array.from(s.numbers, (z) => atomicMass(z));
  const n = s.numbers.length;
  const meta = readJson<RunMeta>(join(dir, 'nve.meta.json'));
  if (!meta) return { molecule: mol, nve_ps_requested: o.nvePs, status: 'not run' };
  const frames = phaseFrames(dir, 'nve', masses);
  if (frames.length < 3) return { molecule: mol, nve_ps_requested: o.nvePs, status: 'too few frames yet' };
  const ekin = frames.map((f) => kineticEnergy(masses, f.velocities));
  const t0 = frames[0].time_fs;
  const drift = driftStats(frames.map((f) => (f.time_fs - t0) / 1000), frames.map((f, k) => f.epot + ekin[k]), ekin, n);
  const bonds = checkBonds(s.numbers, s.positions, frames.map((f) => ({ step: f.step, positions: f.positions })));
  const run = frames[frames.length - 1].time_fs - (meta.from_nvt_step ?? 0) * DT_FS;
  const complete = !meta.stopped && frames[frames.length - 1].step >= meta.start_step + stepsFor(o.nvePs);
  let vdos: Record<string, unknown> | null = null;
  if (frames.length >= 64) {
    const v = vdosFromVelocities(frames.map((f) => f.velocities), masses, NVE_EVERY * DT_FS);
    const { modes, command } = harmonicModes(work, mol);
    // peaks down to 1 % of the highest are listed; the 5 % test is on the strong ones (≥ 10 %): the weak ones are
    // the Hann window's ripple (spaced by the resolution) or modes that hold little energy in a short NVE run of a
    // small molecule (its modes barely exchange energy, so equipartition per mode is not reached)
    const matches = matchPeaks(vdosPeaks(v, 1000, 60), modes, 1000, 0.05, 0.01).map((p) => ({ ...p, strong: p.relative_intensity >= 0.1 }));
    const own = await modelHarmonic(model, dir, mol);
    const ownModes = own.wavenumbers_cm1.map((w, k) => ({ mode: k + 7, wavenumber: w }));
    const ownMatches = matchPeaks(vdosPeaks(v, 1000, 60), ownModes, 1000, 0.05, 0.01);
    vdos = {
      source: 'src/md/vdos.ts vdosFromVelocities (mass-weighted velocity autocorrelation, Hann window to half the run) and vdosPeaks',
      frames: frames.length, sample_fs: NVE_EVERY * DT_FS, resolution_cm1: round(v.resolution),
      peak_rule: 'local maxima above 1000 cm⁻¹ with at least 1 % of the highest one there, each matched to the nearest harmonic mode; ' +
        'strong = at least 10 % of the highest; the test: every strong peak within 5 % of its mode',
      harmonic_command: command,
      harmonic_modes_cm1: modes.map((m) => m.wavenumber),
      peaks: matches.map((p) => ({ ...p, wavenumber: round(p.wavenumber, 5), relative_intensity: round(p.relative_intensity, 3),
        relative_deviation: round(p.relative_deviation, 3) })),
      all_strong_within_5_percent: matches.filter((p) => p.strong).every((p) => p.within),
      model_harmonic: { ...own, peaks_vs_model_modes: ownMatches.map((p) => ({ wavenumber: round(p.wavenumber, 5), mode_wavenumber: p.mode_wavenumber,
        relative_deviation: round(p.relative_deviation, 3), within: p.within })) },
      modes_above_1000_without_a_peak_within_5_percent: modes.filter((m) => m.wavenumber >= 1000 &&
        !matches.some((p) => p.strong && Math.abs(p.wavenumber / m.wavenumber - 1) <= 0.05)).map((m) => m.wavenumber),
    };
  }
  return {
    molecule: mol, nve_ps_requested: o.nvePs,
    status: meta.stopped ? 'stopped by the engine' : complete ? 'complete' : 'partial (a rerun continues it)',
    from_nvt_step: meta.from_nvt_step, from_nvt_ps: round(((meta.from_nvt_step ?? 0) * DT_FS) / 1000, 6),
    nve_ps_run: round(run / 1000, 6), frames: frames.length, sample_fs: NVE_EVERY * DT_FS,
    wall_s: round(meta.segments.reduce((a, g) => a + (g.wall_s || 0), 0)), engine_stop: meta.stopped,
    drift: drift && { ...Object.fromEntries(Object.entries(drift).map(([k, x]) => [k, round(x)])) },
    mean_temperature_K: round(mean(temperatures(frames, masses, degreesOfFreedom('nve', n)))),
    bonds: { intact: bonds.intact, bonds: bonds.bonds, frames: bonds.frames, max_relative_deviation: round(bonds.max_relative_deviation),
      broken_count: bonds.broken_count, formed_count: bonds.formed_count },
    vdos,
  };
}

async function writeReport(o: Options, model: string, modelDir: string, id: ReturnType<typeof modelId>, work: string, invocationWall: number) {
  const molecules = Object.fromEntries(MOLECULES.map((m) => [m, moleculeReport(o, join(work, m), m)]));
  const nve = await nveReport(o, modelDir, work, join(work, NVE_MOLECULE));
  const ran = Object.values(molecules).filter((m) => 'bonds' in m) as { bonds: { intact: boolean }; wall_s: number }[];
  const report = {
    issue: 16, generated_utc: new Date().toISOString(),
    command: 'npx vite-node scripts/organics-checks.ts -- ' + process.argv.slice(2).filter((a) => a !== '--').join(' '),
    model: { dir: model, ...id },
    engine: o.backend === 'cpu' ? 'npm run md (src/cli/mdCommand.ts runMd), float64 CPU engine (--backend cpu)'
      : 'npm run md (src/cli/mdCommand.ts runMd), float32 WebGPU engine (--backend webgpu), adapter in each segment JSON',
    settings: {
      nvt: { ensemble: 'nvt-bussi', temperature_K: TEMPERATURE_K, tau_fs: TAU_FS, dt_fs: DT_FS, seed: o.seed, sample_every_steps: NVT_EVERY },
      nve: { molecule: NVE_MOLECULE, dt_fs: DT_FS, sample_every_steps: NVE_EVERY, start: 'the NVT end state (checkpoint)' },
      bond_check: { bond: `r < ${BOND_FACTOR}·(R_i + R_j) at the start structure (the GFN2-xTB minimum), ASE covalent radii`,
        broken: `|r/r0 − 1| > ${BOND_TOLERANCE} in any sampled frame`, formed: `a pair not bonded at the start closer than ${BOND_FACTOR}·(R_i + R_j)` },
    },
    lengths_requested_ps: { nvt: o.nvtPs, nve: o.nvePs },
    molecules,
    all_run_molecules_intact: ran.length > 0 && ran.every((m) => m.bonds.intact),
    nve,
    wall_s: { md_total: round(ran.reduce((a, m) => a + m.wall_s, 0) + (('wall_s' in nve ? nve.wall_s : 0) as number)), this_invocation: round(invocationWall) },
  };
  mkdirSync(resolve(ROOT, o.out, '..'), { recursive: true });
  writeJsonAtomic(resolve(ROOT, o.out), report);
  return report;
}

/** The report as the Markdown tables of docs/validation.md. */
function markdownTable(r: Awaited<ReturnType<typeof writeReport>>): string {
  const rows = ['| molecule | atoms | charge | NVT run / asked (ps) | status | ⟨T⟩ (K) | bonds | max \\|r/r0 − 1\\| (pair) | broken / new | s/step |',
    '|---|---|---|---|---|---|---|---|---|---|'];
  for (const [m, x] of Object.entries(r.molecules) as [string, Record<string, any>][]) {
    if (!x.bonds) { rows.push(`| ${m} | ${x.atoms} | ${x.charge} | – / ${x.nvt_ps_requested} | ${x.status} | | | | | |`); continue; }
    const b = x.bonds;
    rows.push(`| ${m} | ${x.atoms} | ${x.charge} | ${x.nvt_ps_run} / ${x.nvt_ps_requested} | ${x.status} | ${x.mean_temperature_K} | ${b.bonds} | ` +
      `${b.max_relative_deviation} (${b.worst?.pair}) | ${b.broken_count} / ${b.formed_count} | ${x.s_per_step} |`);
  }
  const n = r.nve as Record<string, any>;
  if (n.drift) {
    rows.push('', `NVE ${n.molecule}: ${n.nve_ps_run} ps (asked ${n.nve_ps_requested}) from the NVT state at ${n.from_nvt_ps} ps, ⟨T⟩ ${n.mean_temperature_K} K: ` +
      `drift ${n.drift.drift_meV_atom_ps} meV/atom/ps, σ(E_kin) ${n.drift.sigma_ekin_meV_atom} meV/atom, |slope|·duration/σ ${n.drift.mlipaudit_ratio}, ` +
      `|slope|·50 ps/σ ${n.drift.mlipaudit_ratio_50ps_extrapolated}, RMS about fit ${n.drift.rms_etot_about_fit_meV_atom} meV/atom; bonds ${n.bonds.intact ? 'intact' : 'NOT intact'}`);
  }
  if (n.vdos) {
    rows.push('', `| VDOS peak (cm⁻¹) | height (of the highest above 1000) | nearest xtb mode (cm⁻¹) | deviation | within 5 % |`, '|---|---|---|---|---|');
    for (const p of n.vdos.peaks) rows.push(`| ${p.wavenumber} | ${p.relative_intensity} | ${p.mode_wavenumber} (mode ${p.nearest_mode}) | ${(100 * p.relative_deviation).toFixed(1)} % | ${p.within ? 'yes' : 'no'}${p.strong ? '' : ' (weak)'} |`);
    const mh = n.vdos.model_harmonic;
    rows.push('', `The model's own harmonic wavenumbers above 1000 cm⁻¹ (its minimum, max |F| ${mh.max_force_at_minimum_eV_A} eV/Å): ` +
      mh.wavenumbers_cm1.filter((w: number) => w >= 1000).map((w: number) => Math.round(w)).join(', '));
    rows.push('', `VDOS peaks vs the model's modes: ` + mh.peaks_vs_model_modes.map((p: any) => `${Math.round(p.wavenumber)}→${Math.round(p.mode_wavenumber)} (${(100 * p.relative_deviation).toFixed(1)} %)`).join(', '));
    rows.push('', `VDOS resolution ${n.vdos.resolution_cm1} cm⁻¹ (${n.vdos.frames} frames every ${n.vdos.sample_fs} fs)`);
  }
  return rows.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const t0 = performance.now();
  let o: Options | null;
  try { o = parseArgs(argv); } catch (e) {
    if (e instanceof OrganicsCheckError) { console.error(`error: ${e.message}`); return 2; }
    throw e;
  }
  if (!o) { console.log(USAGE); return 0; }
  try {
    const model = resolve(ROOT, o.model);
    const id = modelId(model);
    const work = resolve(ROOT, o.work, `${id.name}-${id.hash}${o.backend === 'cpu' ? '' : '-' + o.backend}`);
    mkdirSync(work, { recursive: true });
    if (!o.reportOnly) {
      for (const mol of o.molecules) {
        const dir = join(work, mol);
        mkdirSync(dir, { recursive: true });
        const meta = await runPhase(o, model, dir, mol, 'nvt', stepsFor(o.nvtPs[mol]));
        const nvtDone = !meta.stopped && existsSync(join(dir, 'nvt.ckpt.json')) &&
          parseCheckpoint(readFileSync(join(dir, 'nvt.ckpt.json'), 'utf8')).step >= meta.start_step + stepsFor(o.nvtPs[mol]);
        if (mol === NVE_MOLECULE && o.nve && (nvtDone || existsSync(join(dir, 'nve.meta.json')))) {
          await runPhase(o, model, dir, mol, 'nve', stepsFor(o.nvePs));
        }
        await writeReport(o, o.model, model, id, work, (performance.now() - t0) / 1000);
      }
    }
    const r = await writeReport(o, o.model, model, id, work, (performance.now() - t0) / 1000);
    for (const [m, x] of Object.entries(r.molecules)) {
      const b = 'bonds' in x ? x.bonds : null;
      console.log(`${m}: ${x.status}` + (b && 'nvt_ps_run' in x ? `, ${x.nvt_ps_run} ps, bonds ${b.intact ? 'intact' : 'NOT intact'} (max |r/r0 − 1| ${b.max_relative_deviation})` : ''));
    }
    const nv = r.nve as Record<string, any>;
    if (nv.drift) console.log(`NVE ${nv.molecule}: ${nv.nve_ps_run} ps, drift ${nv.drift.drift_meV_atom_ps} meV/atom/ps, ratio(50 ps) ${nv.drift.mlipaudit_ratio_50ps_extrapolated}`);
    console.log(markdownTable(r));
    console.log(`wrote ${o.out}`);
    return 0;
  } catch (e) {
    if (e instanceof OrganicsCheckError) { console.error(`error: ${e.message}`); return 1; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
