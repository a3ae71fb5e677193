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
