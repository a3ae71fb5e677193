// The decision functions of scripts/organics-checks.ts on real input and deliberately broken input: the bond
// check on the ethanol GFN2 minimum with stretched, compressed and newly formed bonds; the trajectory reader and
// the truncation used on resume on a real `npm run md` trajectory; xtb's vibspectrum from a real `xtb --hess`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMd, type MdIo } from '../../src/cli/mdCommand';
import { atomicMass } from '../../src/io/elements';
import { readStructureFile } from '../../src/io/readNode';
import { AMU_A2_FS2_TO_EV, kineticEnergy } from '../../src/md/units';
import { C_CM_PER_FS } from '../../src/md/vdos';
import { checkBonds, findBonds, harmonicWavenumbers, matchPeaks, symmetricEigenvalues, OrganicsCheckError, parseVibspectrum, readTrajectory,
  truncateTrajectory } from '../../scripts/organics-checks.lib';

const ethanol = readStructureFile('public/systems/ethanol.xyz')[0];
const masses = Float64Array.from(ethanol.numbers, (z) => atomicMass(z));
const tmp = mkdtempSync(join(tmpdir(), 'organics-checks-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Moves atom `j` along the i→j direction so that r_ij becomes factor·r_ij. */
function scaleBond(x: Float64Array, i: number, j: number, factor: number): Float64Array {
  const y = Float64Array.from(x);
  for (let d = 0; d < 3; d++) y[3 * j + d] = x[3 * i + d] + factor * (x[3 * j + d] - x[3 * i + d]);
  return y;
}

describe('organics checks: bond check', () => {
  it('finds ethanol\'s 8 bonds (C–C, C–O, O–H, 5 C–H) at its GFN2 minimum and passes the minimum itself', () => {
    const bonds = findBonds(ethanol.numbers, ethanol.positions);
    expect(bonds.map((b) => `${b.i}-${b.j}`).sort()).toEqual(['0-1', '0-6', '0-7', '0-8', '1-2', '1-4', '1-5', '2-3'].sort());
    const r = checkBonds(ethanol.numbers, ethanol.positions, [{ step: 0, positions: ethanol.positions }]);
    expect(r).toMatchObject({ bonds: 8, frames: 1, intact: true, broken_count: 0, formed_count: 0 });
    expect(r.max_relative_deviation).toBeLessThan(1e-15);
  });

  it('every built-in organic molecule has bonds and passes at its own minimum', () => {
    for (const m of ['acetate', 'paracetamol', 'aspirin', 'caffeine']) {
      const s = readStructureFile(`public/systems/${m}.xyz`)[0];
      const r = checkBonds(s.numbers, s.positions, [{ step: 0, positions: s.positions }]);
      expect(r.intact).toBe(true);
      expect(r.bonds).toBeGreaterThanOrEqual(s.numbers.length - 1); // connected molecule
    }
  });

  it('flags an O–H bond stretched by 30 % or compressed by 30 % and passes one stretched by 20 %', () => {
    const x = ethanol.positions;
    const frames = [
      { step: 0, positions: x },
      { step: 20, positions: scaleBond(x, 2, 3, 1.2) },
      { step: 40, positions: scaleBond(x, 2, 3, 1.3) },
      { step: 60, positions: scaleBond(x, 2, 3, 0.7) },
    ];
    const r = checkBonds(ethanol.numbers, x, frames.slice(0, 2));
    expect(r.intact).toBe(true);
    expect(r.max_relative_deviation).toBeCloseTo(0.2, 12);
    const bad = checkBonds(ethanol.numbers, x, frames);
    expect(bad.intact).toBe(false);
    expect(bad.broken_count).toBe(2);
    expect(bad.broken.map((e) => [e.step, e.pair])).toEqual([[40, 'O2-H3'], [60, 'O2-H3']]);
    expect(bad.broken[0].relative).toBeCloseTo(0.3, 12);
    expect(bad.worst?.relative).toBeCloseTo(0.3, 12);
  });

  it('flags a new bond: the hydroxyl H moved onto the methyl carbon', () => {
    const x = Float64Array.from(ethanol.positions);
    // H3 from O2 to 1.1 Å from C0, on the far side from C1: O2–H3 breaks and C0–H3 forms
    const c0 = [x[0], x[1], x[2]], c1 = [x[3], x[4], x[5]];
    const d = c0.map((v, k) => v - c1[k]), len = Math.hypot(...d);
    for (let k = 0; k < 3; k++) x[9 + k] = c0[k] + (1.1 * d[k]) / len;
    const r = checkBonds(ethanol.numbers, ethanol.positions, [{ step: 100, positions: x }]);
    expect(r.intact).toBe(false);
    expect(r.formed.map((e) => e.pair)).toContain('C0-H3');
    expect(r.broken.map((e) => e.pair)).toContain('O2-H3');
  });

  it('refuses frames it cannot check, naming the problem', () => {
    const x = ethanol.positions;
    expect(() => checkBonds(ethanol.numbers, x, [])).toThrow(OrganicsCheckError);
    expect(() => checkBonds(ethanol.numbers, x, [{ step: 5, positions: x.subarray(0, 24) }])).toThrow(/step 5 has 24 coordinates, expected 27/);
    const nan = Float64Array.from(x); nan[7] = NaN;
    expect(() => checkBonds(ethanol.numbers, x, [{ step: 7, positions: nan }])).toThrow(/non-finite coordinate \(atom 2\)/);
    const far = Float64Array.from(x, (v, k) => v * (k + 1) * 10);
    expect(() => checkBonds(ethanol.numbers, far, [{ step: 0, positions: far }])).toThrow(/no bonds/);
  });
});

describe('organics checks: trajectory files of npm run md', () => {
  const quiet: MdIo = { log: () => {}, error: () => {}, progress: () => {}, isTty: false };

  it('reads velocities that give the engine\'s own E_kin, and truncation at a checkpoint drops later and cut-off frames', async () => {
    // a real run of the project's engine (LJ keeps it fast; the file format is the same for every potential)
    const traj = join(tmp, 'lj.extxyz'), log = join(tmp, 'lj.csv');
    const code = await runMd(['--system', 'public/systems/ethanol.xyz', '--potential', 'lj', '--lj-epsilon', '0.005', '--lj-sigma', '1.0',
      '--backend', 'cpu', '--ensemble', 'nve', '--dt', '0.5', '--steps', '60', '--every', '10', '--traj', traj, '--log', log], quiet);
    expect(code).toBe(0);
    const text = readFileSync(traj, 'utf8');
    const frames = readTrajectory(text, masses, traj);
    expect(frames.map((f) => f.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(frames[2].time_fs).toBeCloseTo(10, 12);
    const rows = readFileSync(log, 'utf8').trim().split('\n');
    const head = rows[0].split(','), iStep = head.indexOf('step'), iKin = head.indexOf('ekin_eV'), iPot = head.indexOf('epot_eV');
    for (const line of rows.slice(1)) {
      const c = line.split(',').map(Number);
      const f = frames.find((g) => g.step === c[iStep]);
      if (!f) continue;
      expect(Math.abs(kineticEnergy(masses, f.velocities) - c[iKin])).toBeLessThan(1e-9 * Math.max(1, Math.abs(c[iKin])));
      expect(Math.abs(f.epot - c[iPot])).toBeLessThan(1e-9 * Math.max(1, Math.abs(c[iPot])));
    }
    // a killed writer: frames up to 60 on disk, the last one cut off mid-atom; checkpoint at step 30
    const cut = text + text.split('\n').slice(0, 6).join('\n');
    expect(readTrajectory(cut, masses).map((f) => f.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    const kept = truncateTrajectory(cut, 30);
    expect(readTrajectory(kept, masses).map((f) => f.step)).toEqual([0, 10, 20, 30]);
    expect(text.startsWith(kept)).toBe(true);
    expect(() => truncateTrajectory('1\nno step here\nH 0 0 0\n', 5)).toThrow(/without step=/);
  });
});

describe('organics checks: harmonic modes and peak matching', () => {
  // xtb (Debian's 6.5.1) is what the script runs; a machine without it skips this one
  const hasXtb = (() => { try { execFileSync('xtb', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
  it.skipIf(!hasXtb)('reads the 21 modes of ethanol from a real xtb --hess at the file\'s GFN2 minimum, no imaginary ones', () => {
    const dir = join(tmp, 'hess');
    execFileSync('mkdir', ['-p', dir]);
    const lines = readFileSync('public/systems/ethanol.xyz', 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'eth.xyz'), ['9', 'ethanol', ...lines.slice(2)].join('\n') + '\n');
    execFileSync('xtb', ['eth.xyz', '--hess', '--chrg', '0', '--uhf', '0'], { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: 'ignore' });
    expect(existsSync(join(dir, 'vibspectrum'))).toBe(true);
    const modes = parseVibspectrum(readFileSync(join(dir, 'vibspectrum'), 'utf8'));
    expect(modes).toHaveLength(21);
    expect(modes[0].mode).toBe(7);
    expect(Math.min(...modes.map((m) => m.wavenumber))).toBeGreaterThan(100);
    // O–H stretch the highest, five C–H stretches between 2800 and 3100 cm⁻¹
    expect(modes[20].wavenumber).toBeGreaterThan(3400);
    expect(modes.filter((m) => m.wavenumber > 2800 && m.wavenumber < 3100)).toHaveLength(5);
    expect(() => parseVibspectrum('nothing here')).toThrow(/no "\$vibrational spectrum" block/);
  });

  it('matches each strong peak above 1000 cm⁻¹ to the nearest mode and flags one more than 5 % off', () => {
    const modes = [{ mode: 7, wavenumber: 400 }, { mode: 8, wavenumber: 1050 }, { mode: 9, wavenumber: 1450 }, { mode: 10, wavenumber: 3000 },
      { mode: 11, wavenumber: 3600 }];
    const peaks = [{ wavenumber: 420, intensity: 5 }, { wavenumber: 1060, intensity: 0.5 }, { wavenumber: 1600, intensity: 0.4 },
      { wavenumber: 2980, intensity: 1 }, { wavenumber: 3300, intensity: 0.05 }];
    const m = matchPeaks(peaks, modes);
    expect(m.map((p) => [p.wavenumber, p.nearest_mode, p.within])).toEqual([[1060, 8, true], [1600, 9, false], [2980, 10, true]]);
    expect(m[1].relative_deviation).toBeCloseTo(1600 / 1450 - 1, 12);
    expect(m[2].relative_intensity).toBe(1);
    expect(() => matchPeaks(peaks, [{ mode: 1, wavenumber: -50 }])).toThrow(/no real harmonic modes/);
  });
});

describe('organics checks: the model\'s harmonic modes', () => {
  it('eigenvalues of a symmetric matrix match its characteristic values', () => {
    // [[2,1,0],[1,2,1],[0,1,2]]: 2 − √2, 2, 2 + √2
    const ev = symmetricEigenvalues([2, 1, 0, 1, 2, 1, 0, 1, 2], 3).sort((a, b) => a - b);
    [2 - Math.SQRT2, 2, 2 + Math.SQRT2].forEach((x, k) => expect(ev[k]).toBeCloseTo(x, 12));
    expect(() => symmetricEigenvalues([1, 2, 3], 2)).toThrow(OrganicsCheckError);
  });

  it('an off-axis C–O spring of 1100 cm⁻¹ gives one mode at 1100 cm⁻¹ after the 5 zero modes of a linear molecule', () => {
    const mC = 12.011, mO = 15.999, mu = (mC * mO) / (mC + mO);
    const omega = 2 * Math.PI * C_CM_PER_FS * 1100; // rad/fs
    const k = omega * omega * mu * AMU_A2_FS2_TO_EV; // eV/Å²
    const u = [0.48, 0.6, 0.64]; // unit bond direction
    const H = new Float64Array(36);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      H[(3 * a + i) * 6 + 3 * b + j] = (a === b ? 1 : -1) * k * u[i] * u[j];
    }
    const wn = harmonicWavenumbers(H, [mC, mO], 5);
    expect(wn).toHaveLength(1);
    expect(wn[0] / 1100 - 1).toBeLessThan(1e-10);
    expect(wn[0] / 1100 - 1).toBeGreaterThan(-1e-10);
    const unstable = harmonicWavenumbers(H.map((x) => -x), [mC, mO], 5);
    expect(unstable[0]).toBeCloseTo(-1100, 6); // an imaginary mode comes out negative
  });
});
