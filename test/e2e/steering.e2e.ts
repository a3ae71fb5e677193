// End-to-end: the pull tool in headless Chromium (WebGPU on SwiftShader) with the default water model in NVE, on
// the built-in 8-water cluster (24 atoms, opened from a link with the settings, so one engine is built: on SwiftShader
// the engine build, all pipeline compiles on the CPU, is most of this test's time). A stretch of steps without pulling
// gives the excursion of E_tot; then an O atom is pressed and dragged with the real mouse while the same number of
// steps run: E_tot changes by the pull's work and E_tot − W_pull must stay as flat as E_tot did without the pull.
// PULL_SCREENSHOT=docs/pull-tool.png also saves the README's picture, taken while the spring acts.
//
// Part of the CI suite (the engine build, a few minutes on 2 CPU cores, is most of its time); E2E_PULL=0 skips it
// for a quick local run of the e2e files.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appSnapshot, pageWaiter, startE2E, watchConsole, type E2E } from './harness';

let e: E2E;
let page: Page;
let log: string[] = [];
/** Steps in each stretch (0.5 fs each on the default model) and per frame: few, every force call runs on a CPU. */
const STEPS = 12;
const PER_FRAME = 2;

beforeAll(async () => {
  if (process.env.E2E_PULL === '0') return;
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
const waitFor = pageWaiter(() => ({ page, log }), {
  timeoutMs: 300_000,
  diagnose: () => appSnapshot(page),
});

type Rows = { step: number[]; etot: number[]; conserved: number[]; work: number[] };
const rows = () => state<Rows>('({ step: s.thermo.step, etot: s.thermo.etot, conserved: s.thermo.conserved, work: s.thermo.pullWork })');

/** Largest |x_i − x_0| over the rows from step `from` to `to`. */
function excursion(r: Rows, col: keyof Rows, from: number, to: number): number {
  const idx = r.step.map((s, i) => [s, i]).filter(([s]) => s >= from && s <= to).map(([, i]) => i);
  const x0 = r[col][idx[0]];
  return Math.max(...idx.map((i) => Math.abs(r[col][i] - x0)));
}

describe.skipIf(process.env.E2E_PULL === '0')('pull tool', () => {
  test('E_tot − W_pull drifts no more with the pull than E_tot without it (NVE, default model, 8-water cluster)', async () => {
    const t0 = Date.now();
    const at = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
    // Settings from a link (NVE, steps per frame) and the built-in 8-water cluster instead of the 192-atom default.
    // While the first engine build compiles every pipeline on SwiftShader the page can stall on its own WebGL calls
    // (one GPU process), so the test clicks nothing until the engine is ready.
    await page.goto(`${e.url}#v=1&system=water8.xyz&ensemble=nve&spf=${PER_FRAME}`, { timeout: 240_000 });
    await waitFor('the default model', () => state<string>('s.modelPhase'), (p) => p === 'ready');
    console.log(`pull e2e: model loaded after ${at()}`);
    await waitFor('the 8-water cluster', () => state<string>('s.systemName'), (n) => /water/.test(n ?? ''));
    expect(await state<string>('s.params.ensemble + s.params.stepsPerFrame')).toBe(`nve${PER_FRAME}`);
    expect(await state<number>('s.system.numbers.length')).toBe(24);
    await waitFor('the engine', () => state<string | null>('s.busy'), (b) => b === null, 900_000);
    expect(await state<string>('s.engineDetail')).toMatch(/AllScAIP/);
    console.log(`pull e2e: engine ready after ${at()}`);
    // Off by default: no chip until the tool is switched on.
    expect(await page.getByTestId('pull-chip').count()).toBe(0);

    // Stretch 1: no pull.
    const s0 = await state<number>('s.frame.step');
    await page.getByTestId('run').click();
    await waitFor('the unpulled steps', () => state<number>('s.frame.step'), (st) => st >= s0 + STEPS);
    await page.getByTestId('pause').click();
    await waitFor('the pause', () => state<boolean>('s.running'), (r) => !r);
    console.log(`pull e2e: ${STEPS} unpulled steps done after ${at()}`);

    // A spring constant the tool refuses, then one it takes.
    await page.getByTestId('pull-stiffness').fill('0');
    await page.getByTestId('pull-stiffness').press('Enter');
    expect(await page.getByTestId('pull-error').textContent()).toMatch(/stiffness/);
    await page.getByTestId('pull-stiffness').fill('2');
    await page.getByTestId('pull-stiffness').press('Enter');
    expect(await state<number>('s.steering.stiffness')).toBe(2);
    await page.getByTestId('pull-tool').check();
    expect(await page.getByTestId('pull-chip').textContent()).toMatch(/PULL TOOL ON/);

    // Stretch 2: press on a clearly visible O atom and drag it while the run goes on.
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
    await waitFor('the pulled steps', () => state<number>('s.frame.step'), (st) => st >= s1 + STEPS);
    expect(await page.getByTestId('pull-chip').textContent()).toMatch(/PULLING O\d+: spring \d+\.\d+ Å/);
    if (process.env.PULL_SCREENSHOT) await page.screenshot({ path: process.env.PULL_SCREENSHOT });
    await page.mouse.up();
    expect(await state<unknown>('s.steering.active')).toBeNull();
    await page.getByTestId('pause').click();
    await waitFor('the pause', () => state<boolean>('s.running'), (r) => !r);
    console.log(`pull e2e: ${STEPS} pulled steps done after ${at()}`);

    const r = await rows();
    const s2 = r.step[r.step.length - 1];
    const work = r.work[r.work.length - 1] - w0;
    const unpulledEtot = excursion(r, 'etot', s0, s0 + STEPS);
    const pulledEtot = excursion(r, 'etot', s1, s2);
    const pulledConserved = excursion(r, 'conserved', s1, s2);
    console.log(`pull e2e: W_pull ${work.toFixed(4)} eV over steps ${s1}–${s2}; max |ΔE_tot| without pull ${unpulledEtot.toExponential(2)} eV, with pull ${pulledEtot.toExponential(2)} eV; max |Δ(E_tot − W_pull)| with pull ${pulledConserved.toExponential(2)} eV`);
    // The pull did real work, visible in E_tot; E_tot − W_pull stayed as flat as E_tot without it.
    expect(Math.abs(work)).toBeGreaterThan(10 * unpulledEtot);
    expect(pulledEtot).toBeGreaterThan(10 * unpulledEtot);
    expect(pulledConserved).toBeLessThanOrEqual(Math.max(unpulledEtot, 1e-4) * 1.5);
    // The drift readout says W_pull is taken out.
    expect(await page.getByTestId('drift').textContent()).toMatch(/− W_pull/);
  }, 1_500_000);
});
