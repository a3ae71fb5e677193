// Screenshot of the trajectory viewer for the README: makes the e2e test's 50-frame Ar extXYZ with ASE (LJ energies
// and forces, momenta, changing cell), opens it in the workbench in headless Chromium, moves to frame 25, computes
// g(r) over all frames and saves docs/trajectory.png.
// Usage: npx vite-node scripts/trajectory-screenshot.ts [-- out.png]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startE2E } from '../test/e2e/harness';

const out = process.argv[2] ?? 'docs/trajectory.png';
// The generator is the e2e test's (one source of truth for the example file).
const source = readFileSync('test/e2e/trajectory.e2e.ts', 'utf8');
const make = /const MAKE = `([\s\S]*?)`;/.exec(source)![1];
const file = join(mkdtempSync(join(tmpdir(), 'traj-shot-')), 'argon-npt.extxyz');
execFileSync('/usr/bin/python3', ['-c', make, file]);
const e = await startE2E();
try {
  const page = await e.browser.newPage({ viewport: { width: 1440, height: 900 } });
  // A shared, loaded machine stalls the page for tens of seconds at a time (SwiftShader on the CPU).
  page.setDefaultTimeout(240_000);
  await page.goto(e.url, { timeout: 240_000 });
  // Lennard-Jones forces, picked once the default model has loaded (loading a model selects its own forces).
  await page.waitForFunction(() => window.__scaip?.store.getState().modelPhase === 'ready', null, { timeout: 240_000 });
  await page.getByTestId('provider').selectOption('lj');
  await page.getByTestId('structure-input').setInputFiles(file);
  await page.waitForFunction(() => !!window.__scaip!.trajectory.getState().open, null, { timeout: 240_000 });
  await page.getByTestId('traj-scrubber').fill('24');
  await page.waitForFunction(() => window.__scaip!.trajectory.getState().index === 24, null, { timeout: 240_000 });
  await page.getByTestId('traj-rdf-stride').fill('1');
  await page.getByTestId('traj-rdf-compute').click();
  await page.waitForFunction(() => !!window.__scaip!.trajectory.getState().rdf, null, { timeout: 240_000 });
  await page.waitForTimeout(800); // plots redraw at most 4×/s
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await e.close();
}
