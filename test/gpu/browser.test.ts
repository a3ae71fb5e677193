// The WebGPU kernels in headless Chromium (navigator.gpu, SwiftShader) against the float64 CPU
// references: the browser path of src/gpu/device.ts and the same WGSL as the Node tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, watchConsole, type E2E } from '../e2e/harness';
import { linearGelu, linearGeluBackward, rmsNorm } from '../../src/cpu/ops';
import type { BrowserKernelInput } from './browser/kernels';
import { f32, randomArray, relErr } from './helpers';

let e2e: E2E | undefined;
beforeAll(async () => { e2e = await startE2E(); });
afterAll(async () => { await e2e?.close(); });

const rows = 37, inDim = 45, outDim = 70;
const lin = {
  x: f32(randomArray(rows * inDim, 71, 2)), W: f32(randomArray(outDim * inDim, 72, 0.4)),
  b: f32(randomArray(outDim, 73, 0.5)), dy: f32(randomArray(rows * outDim, 74)),
};
const norm = { x: f32(randomArray(13 * 97, 75, 3)), w: f32(randomArray(97, 76, 1.5)), rows: 13, dim: 97, eps: 1.1920929e-7 };
describe('WebGPU kernels in headless Chromium', () => {
  it('linear+GELU and RMSNorm match float64', async () => {
    const page = await e2e!.browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${e2e!.url}test/gpu/browser/index.html`);
    await page.waitForFunction(() => (window as unknown as { kernelsReady?: boolean }).kernelsReady === true, null, { timeout: 60_000 });
    const input: BrowserKernelInput = {
      linear: { x: [...lin.x], W: [...lin.W], b: [...lin.b], dy: [...lin.dy], rows, inDim, outDim },
      norm: { x: [...norm.x], w: [...norm.w], rows: norm.rows, dim: norm.dim, eps: norm.eps },
    };
    const res = await page.evaluate(
      (inp) => (window as unknown as { runKernels: (i: unknown) => Promise<{ adapter: string; out: Record<string, number[]> }> }).runKernels(inp),
      input,
    ).catch((e: unknown) => { throw new Error(`${String(e)}\n${log.join('\n')}`); });
    await page.close();
    const out = res.out;

    const ref = linearGelu(lin.x, rows, inDim, lin.W, lin.b, outDim);
    expect(relErr(out.y, ref.y)).toBeLessThan(1e-6);
    expect(relErr(out.dx, linearGeluBackward(lin.dy, ref.pre, rows, inDim, lin.W, outDim))).toBeLessThan(1e-6);
    expect(relErr(out.ny, rmsNorm(norm.x, norm.rows, norm.dim, norm.w, norm.eps).y)).toBeLessThan(1e-6);

    expect(res.adapter.length).toBeGreaterThan(0);
  });
});
