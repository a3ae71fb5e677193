// The WebGPU kernels in headless Chromium (navigator.gpu, SwiftShader) against the float64 CPU
// references: the browser path of src/gpu/device.ts and the same WGSL as the Node tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, watchConsole, type E2E } from '../e2e/harness';
import { linearGelu, linearGeluBackward, rmsNorm } from '../../src/cpu/ops';
import { GeometryGradient } from '../../src/cpu/geometryGradient';
import { nodeAttentionCore, nodeAttentionCoreBackward } from '../../src/cpu/nodeAttention';
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
// One periodic system of 37 atoms in a 6 Å cube, 27 images, 2 heads of 16, 8 ERoPE frequencies.
const N = 37, nh = 2, d = 16, H = nh * d, nf = 8, side = 6;
const images: number[] = [];
for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let c = -1; c <= 1; c++) images.push(a * side, b * side, c * side);
const node = {
  qkv: f32(randomArray(N * 3 * H, 77, 1.5)), dO: f32(randomArray(N * H, 78)),
  positions: f32(randomArray(3 * N, 79).map((u) => (u + 1) * 0.5 * side)),
  omega: f32(Array.from({ length: nf }, (_, f) => 0.02618 * Math.pow(12.566 / 0.02618, f / (nf - 1)))),
  radialWeight: f32(randomArray(nh * nf, 80, 0.8)),
};

describe('WebGPU kernels in headless Chromium', () => {
  it('linear+GELU, RMSNorm and tiled node attention with ERoPE match float64', async () => {
    const page = await e2e!.browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${e2e!.url}test/gpu/browser/index.html`);
    await page.waitForFunction(() => (window as unknown as { kernelsReady?: boolean }).kernelsReady === true, null, { timeout: 60_000 });
    const input: BrowserKernelInput = {
      linear: { x: [...lin.x], W: [...lin.W], b: [...lin.b], dy: [...lin.dy], rows, inDim, outDim },
      norm: { x: [...norm.x], w: [...norm.w], rows: norm.rows, dim: norm.dim, eps: norm.eps },
      node: {
        qkv: [...node.qkv], dO: [...node.dO], positions: [...node.positions], images, omega: [...node.omega],
        radialWeight: [...node.radialWeight], sysStart: [0, N], imageStart: [0, 27], heads: nh, headDim: d,
      },
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

    const cols = (from: number) => {
      const a = new Float64Array(N * H);
      for (let i = 0; i < N; i++) a.set(node.qkv.subarray(i * 3 * H + from, i * 3 * H + from + H), i * H);
      return a;
    };
    const q = cols(0), k = cols(H), v = cols(2 * H);
    const geometry = { numAtoms: N, positions: node.positions, imageTranslations: Float64Array.from(images), numImages: 27 };
    const erope = { omega: node.omega, radialWeight: node.radialWeight };
    const gg = new GeometryGradient(N);
    const want = nodeAttentionCoreBackward(q, k, v, node.dO, N, nh, geometry, erope, gg);
    expect(relErr(out.o, nodeAttentionCore(q, k, v, N, nh, geometry, erope))).toBeLessThan(1e-5);
    expect(relErr(out.dq, want.dq)).toBeLessThan(1e-5);
    const dk = new Float64Array(N * H), dv = new Float64Array(N * H);
    for (let i = 0; i < N; i++) {
      dk.set(out.dkv.slice(i * 2 * H, i * 2 * H + H), i * H);
      dv.set(out.dkv.slice(i * 2 * H + H, (i + 1) * 2 * H), i * H);
    }
    expect(relErr(dk, want.dk)).toBeLessThan(1e-5);
    expect(relErr(dv, want.dv)).toBeLessThan(1e-5);
    const pos = new Float64Array(3 * N), strain = new Float64Array(9);
    for (let i = 0; i < N; i++) {
      for (let c = 0; c < 3; c++) pos[3 * i + c] = out.geomGrad[12 * i + c];
      for (let c = 0; c < 9; c++) strain[c] += out.geomGrad[12 * i + 3 + c];
    }
    expect(relErr(pos, gg.gradPositions)).toBeLessThan(1e-4);
    expect(relErr(strain, gg.strain)).toBeLessThan(1e-4);
    expect(res.adapter.length).toBeGreaterThan(0);
  });
});
