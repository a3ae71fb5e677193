// `npm run md -- --resume ck --ensemble nve`: the options given with --resume reach the engine, not only the
// summary. The engine was built from the checkpoint's own settings, so an NVT checkpoint resumed "as NVE" went on
// thermostatted (seen by the organics checks, whose NVE leg then had to edit the checkpoint instead).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMd, type MdIo } from '../../src/cli/mdCommand';
import { writeExtXyz } from '../../src/io/xyz';
import { csvHeader } from '../../src/md/observables';
import { fccLattice } from '../../src/md/setup';

const dir = mkdtempSync(join(tmpdir(), 'md-resume-'));
const system = join(dir, 'ar32.extxyz');
writeFileSync(system, writeExtXyz(fccLattice(18, 2, 5.8)));
const io = (): MdIo => ({ log: () => {}, error: () => {}, progress: () => {}, isTty: false });

/** Total energy column of a resumed run's thermo CSV (a resumed run appends rows without a header). */
function etot(csv: string): number[] {
  const col = csvHeader().split(',').findIndex((h) => /^e_?tot/i.test(h.trim()));
  expect(col).toBeGreaterThanOrEqual(0);
  return csv.trim().split('\n').filter((r) => /^\d/.test(r)).map((r) => Number(r.split(',')[col]));
}

describe('npm run md --resume with other settings', () => {
  it('an NVT (Langevin) checkpoint resumed with --ensemble nve conserves E_tot; resumed as it was, it does not', async () => {
    const ck = join(dir, 'nvt.ck.json');
    // Strong friction at a target far from the start temperature: the thermostat moves E_tot by a lot per 100 steps.
    const lj = ['--potential', 'lj', '--lj-cutoff', '5', '--dt', '5', '--backend', 'cpu', '--every', '10'];
    expect(await runMd(['--system', system, ...lj, '--ensemble', 'nvt-langevin', '--temperature', '60', '--friction', '0.05',
      '--seed', '2', '--steps', '50', '--checkpoint', ck], io())).toBe(0);
    const nve = join(dir, 'nve.csv'), nvt = join(dir, 'nvt.csv');
    expect(await runMd(['--resume', ck, ...lj, '--ensemble', 'nve', '--steps', '200', '--log', nve], io())).toBe(0);
    expect(await runMd(['--resume', ck, ...lj, '--temperature', '200', '--steps', '200', '--log', nvt], io())).toBe(0);
    const spread = (e: number[]) => Math.max(...e) - Math.min(...e);
    const eNve = etot(readFileSync(nve, 'utf8')), eNvt = etot(readFileSync(nvt, 'utf8'));
    expect(eNve.length).toBeGreaterThan(10);
    // Velocity Verlet at 5 fs for LJ argon: E_tot flat to well under 1 meV over 1 ps; the thermostat heating
    // towards 200 K adds tens of meV.
    expect(spread(eNve)).toBeLessThan(2e-3);
    expect(spread(eNvt)).toBeGreaterThan(10 * spread(eNve));
  });
});
