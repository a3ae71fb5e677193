// `npm run md … --ensemble nve` ends with the drift report (src/md/driftReport.ts): printed and in the JSON summary,
// with the energy-continuity check over every step on the float64 engine, whatever --every is.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMd, type MdIo } from '../../src/cli/mdCommand';
import { writeExtXyz } from '../../src/io/xyz';
import { fccLattice } from '../../src/md/setup';

function capture(): MdIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (s) => out.push(s), error: (s) => err.push(s), progress: () => {}, isTty: false };
}

describe('npm run md: NVE drift report', () => {
  it('reports drift, σ(E_kin), the mlipaudit ratios, the scatter about the fit and the continuity over every step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-nve-'));
    const system = join(dir, 'ar108.extxyz');
    writeFileSync(system, writeExtXyz(fccLattice(18, 3, 5.8)));
    const io = capture();
    const code = await runMd(['--system', system, '--potential', 'lj', '--lj-cutoff', '8.5', '--temperature', '100',
      '--dt', '4', '--ensemble', 'nve', '--steps', '200', '--every', '20', '--backend', 'cpu', '--json', join(dir, 's.json')], io);
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')).nve_report;
    expect(r.samples).toBe(11);
    expect(r.duration_ps).toBeCloseTo(0.8, 12);
    expect(Math.abs(r.drift_meV_atom_ps)).toBeLessThan(0.05);
    expect(r.sigma_ekin_meV_atom).toBeGreaterThan(0);
    expect(r.mlipaudit_ratio_50ps_extrapolated).toBeCloseTo((r.mlipaudit_ratio * 50) / 0.8, 8);
    expect(r.continuity.pairs).toBe(200); // every step, not only the 11 samples
    expect(r.continuity.max_jump_step).toBeGreaterThan(0);
    expect(r.continuity.max_abs_jump_meV).toBeLessThan(0.05); // smooth LJ: trapezoid error only
    expect(r.continuity_source).toMatch(/every step/);
    const text = io.out.join('\n');
    expect(text).toMatch(/drift \(linear fit of E_tot\)/);
    expect(text).toMatch(/\|slope\|·50 ps\/σ\(E_kin\)\s+\S+ \(extrapolated to the 50 ps benchmark; pass ≤ 1\)/);
    expect(text).toMatch(/continuity ΔE_pot \+ ½\(F_n\+F_n\+1\)·Δx: max \|\.\| \S+ meV at step \d+/);
  });

  it('on WebGPU checks continuity between consecutive samples only: every step with --every 1, none with --every 5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-nve-gpu-'));
    const system = join(dir, 'ar32.extxyz');
    writeFileSync(system, writeExtXyz(fccLattice(18, 2, 5.8)));
    const run = async (every: number) => {
      const io = capture();
      expect(await runMd(['--system', system, '--potential', 'lj', '--lj-cutoff', '5.5', '--temperature', '100', '--dt', '4',
        '--ensemble', 'nve', '--steps', '20', '--every', String(every), '--json', join(dir, `s${every}.json`)], io)).toBe(0);
      return JSON.parse(readFileSync(join(dir, `s${every}.json`), 'utf8'));
    };
    const each = await run(1);
    expect(each.backend).toBe('webgpu');
    expect(each.nve_report.continuity.pairs).toBe(20);
    expect(each.nve_report.continuity.max_abs_jump_meV).toBeLessThan(0.5); // float32 energies of 32 atoms
    expect(each.nve_report.continuity_source).toMatch(/consecutive samples/);
    const sparse = await run(5);
    expect(sparse.nve_report.samples).toBe(5);
    expect(sparse.nve_report.continuity).toBeNull();
  });

  it('gives no NVE report for a thermostatted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-nvt-'));
    const system = join(dir, 'ar32.extxyz');
    writeFileSync(system, writeExtXyz(fccLattice(18, 2, 5.8)));
    const io = capture();
    expect(await runMd(['--system', system, '--potential', 'lj', '--lj-cutoff', '5.5', '--temperature', '100', '--dt', '4',
      '--ensemble', 'nvt-langevin', '--steps', '20', '--every', '10', '--backend', 'cpu', '--json', join(dir, 's.json')], io)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')).nve_report).toBeNull();
    expect(io.out.join('\n')).not.toMatch(/mlipaudit/);
  });
});
