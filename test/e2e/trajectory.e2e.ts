// End-to-end: a 50-frame extXYZ trajectory made by ASE here (32 Ar atoms drifting as a crystal, Lennard-Jones
// energies and forces, momenta, a cell that changes every frame, atoms wrapped into it) opened in the workbench in
// headless Chromium: frame count, scrubbing and playing, the energy plot against the file, MSD against numpy, g(r)
// over a frame range against ASE's get_rdf, and 'continue MD from frame 30' (Lennard-Jones forces, from that frame's
// positions, cell and momenta, then 6 steps). Picking Lennard-Jones and opening the file abandon the default model's
// engine build that the page started when the model loaded (src/ui/engine/buildScope.ts): the tests do not wait for it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cellFrame, minimumImage } from '../../src/geometry/cell';
import { appSnapshot, pageWaiter, startE2E, watchConsole, type E2E } from './harness';

let e: E2E;
let page: Page;
let log: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'e2e-traj-'));
const file = join(dir, 'argon-npt.extxyz');

const MAKE = `
import sys, json, numpy as np
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.io import write
rng = np.random.default_rng(5)
base = bulk('Ar', 'fcc', a=5.26, cubic=True).repeat((2, 2, 2))
true = base.get_positions().copy()
frames = []
# The crystal drifts as a whole (a random walk of 0.5 A per axis and frame, so atoms cross the boundaries and the
# MSD grows) and each atom jitters by 0.05 A about its site: no two atoms come close, so MD can continue from any
# frame (a walk per atom brought pairs to 1.2 A, forces of 1e5 eV/A, which the engine's safety check refuses).
shift = np.zeros(3)
for k in range(50):
    if k: shift = shift + rng.normal(0, 0.5, 3)
    a = base.copy()
    a.set_cell(base.cell * (1 + 0.02 * np.sin(k / 4)), scale_atoms=False)
    a.set_positions(true + shift + rng.normal(0, 0.05, true.shape))
    a.wrap()
    a.set_momenta(rng.normal(0, 0.3, true.shape))
    a.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=5.0)
    a.get_potential_energy(); a.get_forces()
    a.info['time_fs'] = 10.0 * k
    frames.append(a)
write(sys.argv[1], frames, format='extxyz')
`;

/** Reads the file back with ASE and computes what the page should show: energies, positions, MSD, kinetic energy. */
const REFERENCE = `
import sys, json, numpy as np
from ase.io import read
from ase.ga.utilities import get_rdf
frames = read(sys.argv[1], index=':')
pos = [f.get_positions() for f in frames]
u = pos[0].copy(); msd = [0.0]
for k in range(1, len(frames)):
    h = np.array(frames[k].cell)
    d = pos[k] - pos[k - 1]
    f = d @ np.linalg.inv(h); f -= np.round(f)
    u = u + f @ h
    msd.append(float(np.mean(np.sum((u - pos[0]) ** 2, axis=1))))
# g(r) of frames 11..40 every 3 as the page computes it: r up to 95 % of frame 1's half-width (at most 8 A), 120 bins.
# ASE normalises all pairs by N^2 where the page (and the usual definition) uses N(N-1): scaled to the page's.
h = np.array(frames[0].cell)
width = min(abs(np.linalg.det(h)) / np.linalg.norm(np.cross(h[(i + 1) % 3], h[(i + 2) % 3])) for i in range(3))
rmax = min(8.0, 0.95 * 0.5 * width)
n = len(frames[0])
rdf = np.mean([get_rdf(f, rmax, 120)[0] for f in frames[10:40:3]], axis=0) * n / (n - 1)
rdf_r = get_rdf(frames[10], rmax, 120)[1]
print(json.dumps({
  'energy': [f.get_potential_energy() for f in frames],
  'positions': [p.ravel().tolist() for p in pos],
  'cells': [np.array(f.cell).ravel().tolist() for f in frames],
  'msd': msd,
  'ekin30': frames[29].get_kinetic_energy(),
  'rdf': rdf.tolist(),
  'rdfR': rdf_r.tolist(),
}))
`;

interface Reference { energy: number[]; positions: number[][]; cells: number[][]; msd: number[]; ekin30: number; rdf: number[]; rdfR: number[] }
let ref: Reference;

const python = (script: string, ...args: string[]) => execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
const state = <T>(fn: string) => page.evaluate(`(() => { const s = window.__scaip.store.getState(); const t = window.__scaip.trajectory.getState(); return ${fn}; })()`) as Promise<T>;

const waitFor = pageWaiter(() => ({ page, log }), { intervalMs: 100, diagnose: () => appSnapshot(page) });

// The engine wraps positions into the cell (as ASE's wrap does); the file's are unwrapped: compare per atom by
// the nearest image of the difference.
const maxImageDiff = (a: ArrayLike<number>, b: ArrayLike<number>, cell: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  const frame = cellFrame(cell, [true, true, true]);
  let m = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = minimumImage([a[i] - b[i], a[i + 1] - b[i + 1], a[i + 2] - b[i + 2]], frame);
    m = Math.max(m, Math.abs(d[0]), Math.abs(d[1]), Math.abs(d[2]));
  }
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

beforeAll(async () => {
  python(MAKE, file);
  ref = JSON.parse(python(REFERENCE, file)) as Reference;
  e = await startE2E();
  page = await e.browser.newPage({ viewport: { width: 1400, height: 900 } });
  log = watchConsole(page);
  // The shared build machine can stall the page for minutes (SwiftShader WebGPU and WebGL on starved CPUs): Playwright's
  // 30 s default for finding an element is not enough there.
  page.setDefaultTimeout(240_000);
  await page.goto(e.url, { timeout: 180_000 });
  await page.getByTestId('provider').waitFor({ timeout: 180_000 });
  // Lennard-Jones forces: the Ar trajectory can be continued without the water model. Picked once the default model
  // has loaded, since loading a model selects its own forces.
  await waitFor('the default model', () => state<string>('s.modelPhase'), (p) => p === 'ready', 180_000);
  await page.getByTestId('provider').selectOption('lj');
}, 360_000);

afterAll(async () => {
  if (log.length) console.log('browser console:\n' + log.slice(-30).join('\n'));
  await e?.close();
});

describe('trajectory viewer', () => {
  test('the file opens as a 50-frame trajectory with the file\'s energies, forces, momenta and changing cells', async () => {
    await page.getByTestId('structure-input').setInputFiles(file);
    await waitFor('the trajectory', () => state<number>('t.open ? t.open.summary.frames : 0'), (n) => n > 0);
    expect(await page.getByTestId('traj-frames').textContent()).toBe('50');
    const has = await state<Record<string, unknown>>('t.open.summary.has');
    expect(has).toEqual({ energy: true, forces: true, velocities: true, time: true, cells: 'per-frame' });
    expect(await state<number>('s.system.numbers.length')).toBe(32);
    // The energy plot is the file's energies, one point per frame.
    expect(maxDiff(await state<number[]>('t.open.summary.series.energy'), ref.energy)).toBeLessThan(1e-9);
    expect(await page.getByTestId('traj-plot-energy').getAttribute('data-points')).toBe('50');
  });

  test('scrubbing shows the frame (positions and cell as ASE reads them), its number and time in the status bar', async () => {
    await page.getByTestId('traj-scrubber').fill('19');
    await waitFor('frame 20', () => page.getByTestId('traj-status-frame').textContent(), (t) => t === '20');
    // The status bar shows the frame asked for at once; the frame itself comes from the parser worker a moment later.
    await waitFor('frame 20 on the workbench', () => state<number>('s.frame.time_fs'), (t) => t === 190);
    expect(await page.getByTestId('traj-status-time').textContent()).toBe('0.1900');
    const f = await state<{ p: number[]; c: number[] }>('({ p: Array.from(s.frame.positions), c: Array.from(s.frame.cell) })');
    expect(maxDiff(f.p, ref.positions[19])).toBeLessThan(1e-9);
    expect(maxDiff(f.c, ref.cells[19])).toBeLessThan(1e-12);
  });

  test('play runs to the last frame and stops', async () => {
    await page.getByTestId('traj-fps').fill('30');
    await page.getByTestId('traj-stride').fill('3');
    await page.getByTestId('traj-play').click();
    const seen = new Set<number>();
    await waitFor('the end of playback', async () => {
      const v = await state<{ i: number; playing: boolean }>('({ i: t.index, playing: t.playing })');
      seen.add(v.i);
      return v;
    }, (v) => !v.playing);
    // Frames 20, 23, …, 50 in steps of 3 (0-based 19 … 49).
    expect(await state<number>('t.index')).toBe(49);
    expect(seen.size).toBeGreaterThan(2);
    const p = await state<number[]>('Array.from(s.frame.positions)');
    expect(maxDiff(p, ref.positions[49])).toBeLessThan(1e-9);
  });

  test('MSD (unwrapped across the boundaries of the changing cell) equals numpy\'s', async () => {
    const msd = await state<number[]>('t.open.summary.series.msd');
    expect(Math.max(...ref.msd)).toBeGreaterThan(5);
    expect(maxDiff(msd, ref.msd)).toBeLessThan(1e-8);
  });

  test('g(r) over frames 11–40 every 3 (computed in the worker) equals ASE\'s get_rdf averaged over the same frames', async () => {
    await page.getByTestId('traj-rdf-from').fill('11');
    await page.getByTestId('traj-rdf-to').fill('40');
    await page.getByTestId('traj-rdf-stride').fill('3');
    await page.getByTestId('traj-rdf-pair').selectOption('all');
    await page.getByTestId('traj-rdf-compute').click();
    const rdf = (await waitFor('g(r)', () => state<{ r: number[]; g: number[]; frames: number; label: string } | null>('t.rdf'), (r) => !!r))!;
    expect(rdf.frames).toBe(10); // frames 11, 14, …, 38
    expect(rdf.label).toBe('all, frames 11–40 every 3');
    expect(maxDiff(rdf.r, ref.rdfR)).toBeLessThan(1e-12);
    expect(Math.max(...ref.rdf)).toBeGreaterThan(1);
    expect(maxDiff(rdf.g, ref.rdf)).toBeLessThan(1e-9);
    await waitFor('the g(r) plot', () => page.getByTestId('traj-plot-rdf').getAttribute('data-points'), (n) => n === '120');
  });

  test('continue MD from frame 30 starts the engine from that frame\'s positions, cell and momenta, and runs', async () => {
    await page.getByTestId('traj-frame-input').fill('30');
    await waitFor('frame 30', () => page.getByTestId('traj-status-frame').textContent(), (t) => t === '30');
    await page.getByTestId('traj-continue').click();
    await waitFor('frame 30 on the workbench', () => state<string>('s.systemName'), (n) => n === 'argon-npt frame 30');
    await waitFor('the engine', () => state<string | null>('s.busy'), (b) => b === null);
    // The viewer follows the engine now, and says how to go back to the file.
    expect(await page.getByTestId('traj-detached').count()).toBe(1);
    const start = (await waitFor('the engine\'s first sample', () => state<{ step: number; ekin: number; p: number[]; c: number[] } | null>(
      's.thermo.step.length ? { step: s.thermo.step[0], ekin: s.thermo.ekin[0], p: Array.from(s.frame.positions), c: Array.from(s.frame.cell) } : null'), (v) => !!v))!;
    expect(start.step).toBe(0);
    // The engine holds float32 on the GPU: positions to 1e-4 Å, kinetic energy from the file's momenta to 1e-5.
    expect(maxImageDiff(start.p, ref.positions[29], ref.cells[29])).toBeLessThan(1e-4);
    expect(maxDiff(start.c, ref.cells[29])).toBeLessThan(1e-4);
    expect(Math.abs(start.ekin - ref.ekin30) / ref.ekin30).toBeLessThan(1e-5);
    await page.getByTestId('steps-per-frame').fill('2');
    await page.getByTestId('run').click();
    await waitFor('6 steps from frame 30', () => state<number>('s.frame.step'), (st) => st >= 6);
    await page.getByTestId('pause').click();
    await waitFor('the pause', () => state<boolean>('s.running'), (r) => !r);
    const p = await state<number[]>('Array.from(s.frame.positions)');
    expect(p.every(Number.isFinite)).toBe(true);
    expect(maxImageDiff(p, ref.positions[29], ref.cells[29])).toBeGreaterThan(1e-4);
  });
});
