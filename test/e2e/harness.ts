// Shared set-up for the browser end-to-end tests: a Vite dev server on 127.0.0.1 (a free port,
// started and stopped by the test itself) and Debian's headless Chromium with WebGPU on SwiftShader.
import { createServer, type ViteDevServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';

// Flags from ../shared/notes/webgpu-on-cpu.md: WebGPU compute and a WebGL canvas both need SwiftShader.
const SWIFTSHADER_FLAGS = ['--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

/**
 * E2E_GPU=hardware runs Chromium on the machine's real GPU (no SwiftShader flags; scripts/gpu-check.sh on a
 * GPU machine); anything else, or unset, keeps SwiftShader, which is what CI has.
 */
export const E2E_ON_HARDWARE = process.env.E2E_GPU === 'hardware';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  ...(E2E_ON_HARDWARE ? [] : SWIFTSHADER_FLAGS),
];

export interface E2E {
  server: ViteDevServer;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

export async function startE2E(): Promise<E2E> {
  const server = await createServer({
    configFile: 'vite.config.ts',
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    // Pre-bundle up front: dependencies discovered while the page loads would make Vite reload it mid-test.
    optimizeDeps: {
      include: ['react', 'react/jsx-runtime', 'react-dom/client', 'zustand', 'three', 'three/examples/jsm/controls/OrbitControls.js', 'uplot'],
    },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite dev server did not report a TCP address');
  const url = `http://127.0.0.1:${addr.port}/`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    headless: true,
  });
  return {
    server,
    browser,
    url,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

/** Collects page errors and console errors so a failing test can print them. */
export function watchConsole(page: Page): string[] {
  const log: string[] = [];
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`${m.type()}: ${m.text()}`);
  });
  return log;
}

export interface WaitOptions {
  /** Give up after this long (ms). SwiftShader on a shared machine is slow: callers size it to the step. */
  timeoutMs?: number;
  /** Poll interval (ms). */
  intervalMs?: number;
  /** The page's console (watchConsole), whose last lines go into the timeout message. */
  log?: string[];
  /** More context for the timeout message (e.g. the app state), read only when it times out. */
  diagnose?: () => Promise<unknown>;
}

/**
 * Polls `read` in the page until `ok` accepts its value and returns that value; on timeout throws naming `what`,
 * the last value, `diagnose`'s answer and the console's last lines. One helper for every e2e file, so a test's
 * waits all fail the same readable way.
 */
export async function waitFor<T>(page: Page, what: string, read: () => Promise<T>, ok: (v: T) => boolean, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 240_000, intervalMs = 200, log = [], diagnose } = opts;
  const t0 = Date.now();
  let v = await read();
  while (!ok(v)) {
    if (Date.now() - t0 > timeoutMs) {
      const extra = diagnose ? `\napp state: ${JSON.stringify(await diagnose().catch((e) => String(e)))}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(v)})${extra}\n${log.slice(-15).join('\n')}`);
    }
    await page.waitForTimeout(intervalMs);
    v = await read();
  }
  return v;
}

/**
 * waitFor bound to a file's page and console, for files that drive one page held in a module variable (read at
 * each call: the page is made in beforeAll). Same signature as the files' earlier local helpers.
 */
export function pageWaiter(get: () => { page: Page; log: string[] }, defaults: Omit<WaitOptions, 'log'> = {}) {
  return <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs?: number): Promise<T> => {
    const { page, log } = get();
    return waitFor(page, what, read, ok, { ...defaults, log, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  };
}

/** What the workbench is doing, for a timeout message: run state, engine, step and notices. */
export function appSnapshot(page: Page): Promise<unknown> {
  return page.evaluate(() => {
    const s = window.__scaip!.store.getState();
    return { running: s.running, busy: s.busy, step: s.frame && s.frame.step, engine: s.engineDetail, notices: s.notices.map((n) => `${n.level}: ${n.text}`) };
  });
}

/** Drop a file on the viewer as a user dragging it from the desktop would. */
export async function dropFile(page: Page, name: string, content: string): Promise<void> {
  await page.evaluate(([n, c]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([c], n));
    const target = document.querySelector('[data-testid="viewer"]')!;
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [name, content]);
}
