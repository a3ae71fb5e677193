// The WebGPU AllScAIP runtime inside headless Chromium (WebGPU on SwiftShader) against the float64
// fixtures: the same kernels as in Node, run by the browser's WebGPU implementation. One page runs both
// cases on one device (test/e2e/gpu-model-page.ts), as the workbench runs one model after another.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, watchConsole, type E2E } from './harness';

let e2e: E2E | undefined;
let page: Page;
let log: string[] = [];
beforeAll(async () => {
  e2e = await startE2E();
  page = await e2e.browser.newPage();
  page.setDefaultTimeout(600_000);
  log = watchConsole(page);
  await page.goto(`${e2e.url}test/e2e/gpu-model.html`);
  await page.waitForFunction(() => window.__gpuModelCase !== undefined, undefined, { timeout: 120_000 });
});
afterAll(async () => { await e2e?.close(); });

function relNorm(got: number[], want: number[]): number {
  let num = 0, den = 0;
  want.forEach((w, i) => { num += (got[i] - w) ** 2; den += w * w; });
  return Math.sqrt(num / den);
}

describe('WebGPU AllScAIP in headless Chromium', () => {
  for (const name of ['golden-case3', 'molecule-all-flags']) {
    it(`${name}: energy 1e-5, forces and stress 1e-4 (relative)`, async () => {
      const r = await page.evaluate((n) => window.__gpuModelCase!(n), name);
      if ('error' in r) throw new Error(`${r.error}\n${log.join('\n')}`);
      console.log(`adapter: ${r.adapter}`); // scripts/gpu-check.sh reports which adapter the browser used
      const want = JSON.parse(readFileSync(`test/fixtures/${name}/case.json`, 'utf8')).outputs;
      expect(Math.abs(r.energy - want.energy) / Math.abs(want.energy)).toBeLessThan(1e-5);
      expect(relNorm(r.forces, (want.forces as number[][]).flat())).toBeLessThan(1e-4);
      if (want.stress) expect(relNorm(r.stress!, (want.stress as number[][]).flat())).toBeLessThan(1e-4);
    });
  }
});
