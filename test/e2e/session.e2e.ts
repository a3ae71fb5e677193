// End-to-end: shareable links in headless Chromium. Settings, system and model chosen in one page, "copy link",
// the link opened in a fresh page (new context: nothing shared but the URL) restores them; a link with bad and
// unknown fields names them in a notice and the page runs on the defaults.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startE2E, waitFor as poll, watchConsole, type E2E } from './harness';

let e: E2E;
let log: string[] = [];

beforeAll(async () => { e = await startE2E(); });
afterAll(async () => {
  if (log.length) console.log('browser console:\n' + log.slice(-30).join('\n'));
  await e?.close();
});

const state = <T>(page: Page, fn: string) => page.evaluate(`(() => { const s = window.__scaip.store.getState(); return ${fn}; })()`) as Promise<T>;

const waitFor = <T>(page: Page, what: string, read: () => Promise<T>, ok: (v: T) => boolean) => poll(page, what, read, ok, { log });

async function freshPage(url: string): Promise<Page> {
  const ctx = await e.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  // A shared, loaded machine can stall the page for tens of seconds while the model loads and pipelines compile.
  page.setDefaultTimeout(240_000);
  log = watchConsole(page);
  await page.goto(url, { timeout: 240_000 });
  return page;
}

const snapshot = `({ params: (({ backend, ...p }) => p)(s.params), view: s.view, k: s.steering.stiffness, system: s.systemName,
  atoms: s.system ? s.system.numbers.length : 0, model: s.model && s.model.name })`;

describe('shareable links', () => {
  test('a copied link reopened in a fresh page restores model, system and settings', async () => {
    const a = await freshPage(e.url);
    await waitFor(a, 'the default model', () => state<string>(a, 's.modelPhase'), (p) => p === 'ready');
    await waitFor(a, 'the default system', () => state<number>(a, 's.system ? s.system.numbers.length : 0'), (n) => n === 192);
    // Another shipped model, a smaller built-in system tiled, and settings that are all off their defaults.
    await a.getByTestId('shipped-select').selectOption('ionic-gas-local');
    await waitFor(a, 'the ionic model', () => state<string>(a, 's.model && s.model.name'), (n) => /ionic-gas-local/.test(n ?? ''));
    await a.getByTestId('builtin-select').selectOption({ label: 'ionic gas: Na⁺…Cl⁻ pair in a 24 Å box' });
    await waitFor(a, 'the NaCl pair', () => state<number>(a, 's.system ? s.system.numbers.length : 0'), (n) => n === 2);
    await a.getByTestId('ensemble').selectOption('nvt-bussi');
    await a.getByTestId('steps-per-frame').fill('7');
    await a.getByLabel('seed', { exact: true }).fill('4242');
    await a.getByLabel('temperature (K)').fill('345');
    await a.getByLabel('bonds', { exact: true }).uncheck();
    await a.getByTestId('pull-stiffness').fill('3.5');
    await a.getByTestId('pull-stiffness').press('Enter');
    const before = await state<Record<string, unknown>>(a, snapshot);
    expect(before).toMatchObject({ params: { ensemble: 'nvt-bussi', stepsPerFrame: 7, seed: 4242, temperature: 345 }, view: { bonds: false }, k: 3.5, atoms: 2 });
    await a.getByTestId('copy-link').click();
    const link = await a.getByTestId('session-link').inputValue();
    expect(link).toMatch(/#v=1&model=ionic-gas-local&system=nacl_pair_box\.xyz&/);
    expect(a.url()).toBe(link); // the address bar holds it too
    await a.context().close();

    const b = await freshPage(link);
    await waitFor(b, 'the linked model', () => state<string>(b, 's.model && s.model.name'), (n) => /ionic-gas-local/.test(n ?? ''));
    await waitFor(b, 'the linked system', () => state<number>(b, 's.system ? s.system.numbers.length : 0'), (n) => n === 2);
    expect(await state<Record<string, unknown>>(b, snapshot)).toEqual(before);
    expect(await state<string[]>(b, 's.notices.filter((n) => n.level !== "info").map((n) => n.text)')).toEqual([]);
    await b.context().close();
  });

  test('bad and unknown fields are named in a notice; defaults are used and the page works', async () => {
    const c = await freshPage(`${e.url}#v=1&T=hot&colour=red&spf=3&system=nothere.xyz`);
    await waitFor(c, 'the default model', () => state<string>(c, 's.modelPhase'), (p) => p === 'ready');
    await waitFor(c, 'the default system', () => state<number>(c, 's.system ? s.system.numbers.length : 0'), (n) => n === 192);
    const notices = await state<string[]>(c, 's.notices.map((n) => n.text)');
    const link = notices.find((t) => t.startsWith('This link has'));
    expect(link).toMatch(/T \("hot" is not a temperature/);
    expect(link).toMatch(/colour \(unknown field/);
    expect(notices.some((t) => /field system \("nothere\.xyz"\) is not a built-in system/.test(t))).toBe(true);
    expect(await c.getByTestId('notice-warning').first().isVisible()).toBe(true);
    expect(await state<number>(c, 's.params.temperature')).toBe(300); // the default
    expect(await state<number>(c, 's.params.stepsPerFrame')).toBe(3); // the good field applied
    await c.context().close();
  });
});
