// End-to-end: the pull tool in headless Chromium (WebGPU on SwiftShader) with the default water model in NVE.
// A stretch of steps without pulling gives the drift of E_tot; then an O atom is pressed and dragged with the
// real mouse while the same number of steps run: E_tot changes by the pull's work and E_tot − W_pull must drift
// no more than E_tot did without the pull. Also takes docs/pull-tool.png for the README's walk-through.

import { existsSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startE2E, watchConsole, type E2E } from './harness';

let e: E2E;
let page: Page;
let log: string[] = [];
const hasDefaultModel = existsSync('public/models/index.json');
/** Steps in each stretch (0.5 fs each on the default model) and per frame: few, every force call runs on a CPU. */
const STEPS = 12;
const PER_FRAME = 2;

beforeAll(async () => {
  e = await startE2E();
  page = await e.browser.newPage({ viewport: { width: 1400, height: 900 } });
  log = watchConsole(page);
  // A shared, loaded machine can stall the page for tens of seconds while the model loads and pipelines compile.
  page.setDefaultTimeout(240_000);
});

afterAll(async () => {
  if (log.length) console.log('browser console:\n' + log.slice(-30).join('\n'));
  await e?.close();
});

const state = <T>(fn: string) => page.evaluate(`(() => { const s = window.__scaip.store.getState(); return ${fn}; })()`) as Promise<T>;

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 300_000): Promise<T> {
  const t0 = Date.now();
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})\n${log.slice(-10).join('\n')}`);
    await page.waitForTimeout(200);
    v = await fn();
  }
  return v;
}

type Rows = { step: number[]; etot: number[]; conserved: number[]; work: number[] };
const rows = () => state<Rows>('({ step: s.thermo.step, etot: s.thermo.etot, conserved: s.thermo.conserved, work: s.thermo.pullWork })');

/** Largest |x_i − x_0| over the rows from step `from` to `to`. */
function excursion(r: Rows, col: keyof Rows, from: number, to: number): number {
  const idx = r.step.map((s, i) => [s, i]).filter(([s]) => s >= from && s <= to).map(([, i]) => i);
  const x0 = r[col][idx[0]];
  return Math.max(...idx.map((i) => Math.abs(r[col][i] - x0)));
}

describe.skipIf(!hasDefaultModel)('pull tool', () => {
  test('E_tot − W_pull drifts no more with the pull than E_tot without it (NVE, default model)', async () => {
    const t0 = Date.now();
    await page.goto(e.url, { timeout: 240_000 });
    await waitFor('the default model', () => state<string>('s.modelPhase'), (p) => p === 'ready');
    await waitFor('the water box', () => state<number>('s.system ? s.system.numbers.length : 0'), (n) => n === 192);
    await page.getByTestId('ensemble').selectOption('nve');
    await page.getByTestId('steps-per-frame').fill(String(PER_FRAME));
    await waitFor('NVE settings', () => state<string>('s.params.ensemble + s.params.stepsPerFrame'), (v) => v === `nve${PER_FRAME}`);
    await waitFor('the engine', () => state<string | null>('s.busy'), (b) => b === null, 360_000);
    console.log(`pull e2e: engine ready after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // Off by default: no chip until the tool is switched on.
    expect(await page.getByTestId('pull-chip').count()).toBe(0);

    // Stretch 1: no pull.
    const s0 = await state<number>('s.frame.step');
    await page.getByTestId('run').click();
    await waitFor('the unpulled steps', () => state<number>('s.frame.step'), (st) => st >= s0 + STEPS);
    await page.getByTestId('pause').click();
    await waitFor('the pause', () => state<boolean>('s.running'), (r) => !r);

    // Stretch 2: switch the tool on, press on a clearly visible O atom and drag it 80 px while the run goes on.
    await page.getByTestId('pull-stiffness').fill('0');
    await page.getByTestId('pull-stiffness').press('Enter');
    expect(await page.getByTestId('pull-error').textContent()).toMatch(/stiffness/);
    await page.getByTestId('pull-stiffness').fill('2');
    await page.getByTestId('pull-stiffness').press('Enter');
    await page.getByTestId('pull-tool').check();
    expect(await page.getByTestId('pull-chip').textContent()).toMatch(/PULL TOOL ON/);
    const target = await page.evaluate(() => {
      const h = window.__scaip!;
      const z = h.store.getState().system!.numbers;
      for (let i = 0; i < z.length; i++) {
        if (z[i] !== 8) continue;
        const p = h.projectAtom(i)!;
        const x = Math.round(p.x), y = Math.round(p.y);
        if ([[0, 0], [2, 0], [-2, 0], [0, 2], [0, -2]].every(([dx, dy]) => h.atomAt(x + dx, y + dy) === i)) return { i, x, y };
      }
      return null;
    });
    expect(target).not.toBeNull();
    const s1 = await state<number>('s.frame.step');
    const w0 = await state<number>('s.thermo.pullWork[s.thermo.pullWork.length - 1]');
    await page.getByTestId('run').click();
    await page.mouse.move(target!.x, target!.y);
    await page.mouse.down();
    await page.mouse.move(target!.x + 80, target!.y - 20, { steps: 8 });
    const pulled = await waitFor('the pull to start', () => state<number[] | null>('s.steering.active && s.steering.active.atoms'), (a) => !!a);
    expect(pulled).toEqual([target!.i]);
    expect(await page.getByTestId('pull-chip').textContent()).toMatch(/PULLING O\d+: spring \d+\.\d+ Å/);
    await waitFor('the pulled steps', () => state<number>('s.frame.step'), (st) => st >= s1 + STEPS);
    // The README's picture: the spring drawn while the atom is pulled.
    writeFileSync('docs/pull-tool.png', await page.screenshot());
    await page.mouse.up();
    expect(await state<unknown>('s.steering.active')).toBeNull();
    await page.getByTestId('pause').click();
    await waitFor('the pause', () => state<boolean>('s.running'), (r) => !r);

    console.log(`pull e2e: both stretches done after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const r = await rows();
    const s2 = r.step[r.step.length - 1];
    const work = r.work[r.work.length - 1] - w0;
    const unpulledEtot = excursion(r, 'etot', s0, s0 + STEPS);
    const pulledEtot = excursion(r, 'etot', s1, s2);
    const pulledConserved = excursion(r, 'conserved', s1, s2);
    console.log(`pull e2e: W_pull ${work.toFixed(4)} eV; max |ΔE_tot| without pull ${unpulledEtot.toExponential(2)} eV, with pull ${pulledEtot.toExponential(2)} eV; max |Δ(E_tot − W_pull)| with pull ${pulledConserved.toExponential(2)} eV`);
    // The pull did real work, visible in E_tot; E_tot − W_pull stayed as flat as E_tot without it.
    expect(Math.abs(work)).toBeGreaterThan(10 * unpulledEtot);
    expect(pulledEtot).toBeGreaterThan(10 * unpulledEtot);
    expect(pulledConserved).toBeLessThanOrEqual(Math.max(unpulledEtot, 1e-4) * 1.5);
    // The drift readout says W_pull is taken out.
    expect(await page.getByTestId('drift').textContent()).toMatch(/− W_pull/);
  }, 900_000);
});
