// `npm run md` checks the structure against the model before the first step (issue 12).
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MD_USAGE, parseMdArgs, runMd, type MdIo } from '../../src/cli/mdCommand';

const ROOT = join(__dirname, '..', '..');
const WATER_MODEL = join(ROOT, 'public/models/water-spcfw-small');
const dir = mkdtempSync(join(tmpdir(), 'md-check-'));
const ethanol = join(dir, 'ethanol.xyz');
writeFileSync(ethanol, '9\nethanol\nC -0.0017 1.0 0.0\nC -0.0017 -0.528 0.0\nO 1.356 -0.962 0.0\nH -1.028 1.388 0.0\n' +
  'H 0.505 1.396 0.888\nH 0.505 1.396 -0.888\nH -0.517 -0.914 0.888\nH -0.517 -0.914 -0.888\nH 1.36 -1.931 0.0\n');
const ion = join(dir, 'ion.xyz');
writeFileSync(ion, '3\ncharge=5 spin=3\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n');

function capture(): MdIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (s) => out.push(s), error: (s) => err.push(s), progress: () => {}, isTty: false };
}

describe('md refuses what the model cannot compute', () => {
  it('documents --allow-untrained-elements and parses it', () => {
    expect(MD_USAGE).toContain('--allow-untrained-elements');
    expect(parseMdArgs(['--system', 's', '--model', 'm', '--allow-untrained-elements'])!.allowUntrainedElements).toBe(true);
    expect(parseMdArgs(['--system', 's', '--model', 'm'])!.allowUntrainedElements).toBe(false);
  });

  it('ethanol with the water model: exit 1 before any step; with the override it runs, with a warning', async () => {
    const io = capture();
    const traj = join(dir, 'eth.extxyz');
    expect(await runMd(['--system', ethanol, '--model', WATER_MODEL, '--backend', 'cpu', '--steps', '2', '--traj', traj], io)).toBe(1);
    expect(io.err).toEqual([
      'error: model water-spcfw-small was trained on H, O (Z = 1, 8) only; the structure has C (atoms 0, 1). ' +
        'Its energies and forces for them would be meaningless (override: --allow-untrained-elements)',
    ]);
    expect(existsSync(traj)).toBe(false);
    const forced = capture();
    expect(await runMd(['--system', ethanol, '--model', WATER_MODEL, '--backend', 'cpu', '--steps', '2', '--every', '1',
      '--allow-untrained-elements'], forced)).toBe(0);
    expect(forced.err[0]).toMatch(/^warning: computing C \(atoms 0, 1\) although model water-spcfw-small was trained on/);
  });

  it('charge 5 / spin 3 with a model without charge/spin: exit 1 with both problems', async () => {
    const io = capture();
    expect(await runMd(['--system', ion, '--model', WATER_MODEL, '--backend', 'cpu', '--steps', '2'], io)).toBe(1);
    expect(io.err.join('\n')).toMatch(/^error: 2 problems with the structure for model water-spcfw-small:\n {2}- .*charge 5\..*\n {2}- .*spin 3\./);
  });
});
