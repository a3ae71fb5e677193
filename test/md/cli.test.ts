// `npm run md` end to end on the WebGPU engine (SwiftShader here): outputs, resume from a checkpoint file, and a
// deliberately exploding run (dt far too long) that must stop naming the step and atom and keep the last good frame.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMd, type MdIo } from '../../src/cli/mdCommand';
import { readStructures } from '../../src/io/read';
import { writeExtXyz } from '../../src/io/xyz';
import { fccLattice } from '../../src/md/setup';

const dir = mkdtempSync(join(tmpdir(), 'md-cli-'));
const system = join(dir, 'ar32.extxyz');
writeFileSync(system, writeExtXyz(fccLattice(18, 2, 5.8)));

function capture(): MdIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (s) => out.push(s), error: (s) => err.push(s), progress: () => {}, isTty: false };
}

const base = ['--system', system, '--potential', 'lj', '--lj-cutoff', '5.5', '--temperature', '100', '--dt', '10',
  '--ensemble', 'nvt-langevin', '--friction', '0.01', '--seed', '5', '--every', '50'];

describe('npm run md', () => {
  it('writes thermo log, trajectory and summary, and a resumed run ends where an uninterrupted one does', async () => {
    const full = capture();
    expect(await runMd([...base, '--steps', '200', '--traj', join(dir, 'full.extxyz'), '--log', join(dir, 'full.csv'),
      '--json', join(dir, 'full.json')], full)).toBe(0);
    const half = capture();
    expect(await runMd([...base, '--steps', '100', '--checkpoint', join(dir, 'ck.json'), '--log', join(dir, 'res.csv')], half)).toBe(0);
    const rest = capture();
    expect(await runMd(['--resume', join(dir, 'ck.json'), '--potential', 'lj', '--lj-cutoff', '5.5', '--steps', '100', '--every', '50',
      '--traj', join(dir, 'res.extxyz'), '--log', join(dir, 'res.csv')], rest)).toBe(0);

    const log = readFileSync(join(dir, 'full.csv'), 'utf8').trim().split('\n');
    expect(log[0]).toBe('step,time_ps,epot_eV,ekin_eV,etot_eV,conserved_eV,temperature_K,pressure_bar,volume_A3,density_g_cm3,steps_per_s,ns_per_day,pull_work_eV');
    expect(log.map((l) => l.split(',')[0]).slice(1)).toEqual(['0', '50', '100', '150', '200']);
    const resumedLog = readFileSync(join(dir, 'res.csv'), 'utf8').trim().split('\n');
    expect(resumedLog.map((l) => l.split(',')[0]).slice(1)).toEqual(['0', '50', '100', '150', '200']);

    const a = readStructures(readFileSync(join(dir, 'full.extxyz'), 'utf8'), 'full.extxyz');
    const b = readStructures(readFileSync(join(dir, 'res.extxyz'), 'utf8'), 'res.extxyz');
    expect(a.length).toBe(5);
    expect(a.at(-1)!.info!.step).toBe(200);
    expect(b.at(-1)!.info!.step).toBe(200);
    expect(Array.from(b.at(-1)!.positions)).toEqual(Array.from(a.at(-1)!.positions));

    const summary = JSON.parse(readFileSync(join(dir, 'full.json'), 'utf8'));
    expect(summary.backend).toBe('webgpu');
    expect(summary.steps_done).toBe(200);
    expect(summary.averages.temperature_K).toBeGreaterThan(40);
    expect(Number.isFinite(summary.energy_drift.meV_per_atom_per_ps)).toBe(true);
    expect(summary.stopped).toBeNull();
    expect(full.out.join('\n')).toMatch(/200 steps of nvt-langevin \(10 fs\).*steps\/s.*ns\/day/);
  });

  it('stops an exploding run with the step and atom, and keeps the last good frame', async () => {
    const io = capture();
    const traj = join(dir, 'boom.extxyz');
    const code = await runMd(['--system', system, '--potential', 'lj', '--lj-cutoff', '5.5', '--temperature', '300',
      '--dt', '150', '--steps', '400', '--every', '10', '--traj', traj, '--json', join(dir, 'boom.json')], io);
    expect(code).toBe(3);
    const msg = io.err.join('\n');
    expect(msg).toMatch(/MD stopped at step \d+: atom Ar\d+ went bad first \(force above 100 eV\/Å or NaN\/Inf/);
    expect(msg).toMatch(/the last good frame is step \d+ \(saved in .*boom.extxyz\)/);
    const summary = JSON.parse(readFileSync(join(dir, 'boom.json'), 'utf8'));
    const frames = readStructures(readFileSync(traj, 'utf8'), 'boom.extxyz');
    const last = frames.at(-1)!;
    expect(last.info!.step).toBeLessThan(summary.stopped.step);
    expect(Array.from(last.positions).every(Number.isFinite)).toBe(true);
    expect(summary.stopped.atoms.length).toBe(1);
  });

  it('runs on the float64 CPU engine with --backend cpu', async () => {
    const io = capture();
    expect(await runMd([...base, '--steps', '100', '--backend', 'cpu', '--ensemble', 'nvt-nhc', '--json', join(dir, 'cpu.json'),
      '--rdf', '5'], io)).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'cpu.json'), 'utf8'));
    expect(summary.backend).toBe('cpu');
    expect(summary.settings.ensemble).toBe('nvt-nhc');
    expect(summary.rdf.pairs['Ar-Ar'].length).toBe(200);
    expect(summary.msd_final_A2.Ar).toBeGreaterThan(0);
  });

  it('runs an AllScAIP model (fixture weights) with the WebGPU runtime as force provider', async () => {
    const c = JSON.parse(readFileSync('test/fixtures/molecule-released-flags/case.json', 'utf8')).inputs;
    const water = join(dir, 'w6.xyz');
    writeFileSync(water, writeExtXyz({ numbers: Int32Array.from(c.numbers), positions: Float64Array.from(c.positions.flat()),
      cell: null, pbc: [false, false, false], charge: 0, spin: 1 }));
    const io = capture();
    expect(await runMd(['--system', water, '--model', 'test/fixtures/molecule-released-flags', '--steps', '20', '--every', '5',
      '--temperature', '300', '--json', join(dir, 'w6.json')], io)).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'w6.json'), 'utf8'));
    expect(summary.force_provider).toBe('allscaip');
    expect(summary.force_provider_name).toMatch(/AllScAIP .* \(WebGPU float32\)/);
    expect(summary.settings.dt).toBe(0.5); // hydrogen present
    expect(summary.steps_done).toBe(20);
  }, 300_000); // first compiles of this model's kernels on SwiftShader: over 120 s when the machine is loaded

  it('stops an NPT run whose box shrinks below twice the LJ cutoff', async () => {
    const io = capture();
    expect(await runMd(['--system', system, '--potential', 'lj', '--lj-cutoff', '5.75', '--ensemble', 'npt', '--pressure', '20000',
      '--temperature', '100', '--dt', '10', '--steps', '2000', '--every', '20', '--barostat-every', '2',
      '--traj', join(dir, 'shrink.extxyz')], io)).toBe(3);
    expect(io.err.join('\n')).toMatch(/MD stopped at step \d+: the box shrank to a half-length of 5\.\d+ Å, below the LJ cutoff 5.75 Å/);
  });

  it('explains bad command lines', async () => {
    const io = capture();
    expect(await runMd(['--system', system, '--potential', 'lj', '--ensemble', 'npt-foo'], io)).toBe(2);
    expect(io.err[0]).toMatch(/--ensemble must be one of nve, nvt-langevin/);
    const io2 = capture();
    expect(await runMd(['--system', join(dir, 'missing.xyz'), '--potential', 'lj'], io2)).toBe(1);
    expect(io2.err[0]).toMatch(/missing.xyz: no such file/);
  });
});
