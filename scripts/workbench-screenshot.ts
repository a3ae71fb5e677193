// Screenshot of the workbench for the README: opens the page in headless Chromium (same set-up as the e2e
// tests), lets the default system run for a few seconds, picks two atoms and saves docs/workbench.png.
// Usage: npx vite-node scripts/workbench-screenshot.ts [-- out.png]   (SCREENSHOT_STEPS: steps to run, default 200)
import { startE2E } from '../test/e2e/harness';

const out = process.argv[2] ?? 'docs/workbench.png';
const steps = Number(process.env.SCREENSHOT_STEPS ?? 200);
const e = await startE2E();
try {
  const page = await e.browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(e.url);
  await page.waitForFunction(() => {
    const s = window.__scaip?.store.getState();
    return !!s && s.system !== null && s.busy === null && s.modelPhase !== 'loading' && s.thermo.step.length > 0;
  }, null, { timeout: 120_000 });
  await page.getByTestId('run').click();
  await page.waitForFunction((n) => (window.__scaip!.store.getState().frame?.step ?? 0) >= n, steps, { timeout: 600_000 });
  await page.getByTestId('pause').click();
  await page.waitForFunction(() => !window.__scaip!.store.getState().running, null, { timeout: 600_000 });
  // Pick an O and a neighbouring atom so the measurement bar shows a distance.
  const pts = await page.evaluate(() => {
    const h = window.__scaip!;
    const n = h.store.getState().system!.numbers.length;
    const found: { x: number; y: number }[] = [];
    for (let i = 0; i < n && found.length < 2; i++) {
      const p = h.projectAtom(i)!;
      if (h.atomAt(p.x, p.y) === i) found.push(p);
    }
    return found;
  });
  for (const p of pts) await page.mouse.click(p.x, p.y);
  await page.waitForTimeout(600); // plots redraw at most 4×/s
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await e.close();
}
