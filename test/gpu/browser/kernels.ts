// Browser side of test/gpu/browser.test.ts: the same kernels as the Node tests, acquired through
// navigator.gpu (attention and the whole model run in the browser in test/e2e/gpuModel.e2e.ts). Inputs arrive as plain arrays; outputs go back as plain arrays.
import { acquireDevice } from '../../../src/gpu/device';
import { GpuRuntime } from '../../../src/gpu/runtime';
import { linearBackwardInput, linearForward } from '../../../src/gpu/ops/linear';
import { rmsNormForward } from '../../../src/gpu/ops/elementwise';

export interface BrowserKernelInput {
  linear: { x: number[]; W: number[]; b: number[]; dy: number[]; rows: number; inDim: number; outDim: number };
  norm: { x: number[]; w: number[]; rows: number; dim: number; eps: number };
}

async function run(input: BrowserKernelInput): Promise<{ adapter: string; out: Record<string, number[]> }> {
  const ctx = await acquireDevice();
  const rt = new GpuRuntime(ctx.device);
  const nan = (name: string, n: number) => rt.upload(name, new Float32Array(n).fill(NaN));
  const up = (name: string, a: number[]) => rt.upload(name, Float32Array.from(a));
  const rec = rt.recorder('browser kernels');

  const L = input.linear;
  const layer = { weight: up('W', L.W), bias: up('b', L.b), inDim: L.inDim, outDim: L.outDim };
  const y = nan('y', L.rows * L.outDim), pre = nan('pre', L.rows * L.outDim), dx = nan('dx', L.rows * L.inDim);
  linearForward(rt, rec, { x: up('x', L.x), rows: L.rows, layer, y, gelu: true, pre });
  linearBackwardInput(rt, rec, { dy: up('dy', L.dy), rows: L.rows, layer, dx, gelu: true, pre });

  const R = input.norm;
  const ny = nan('ny', R.rows * R.dim), inv = nan('inv', R.rows);
  rmsNormForward(rt, rec, { x: up('nx', R.x), weight: up('nw', R.w), rows: R.rows, dim: R.dim, eps: R.eps, y: ny, invRms: inv });

  rec.submit();

  const read = async (b: GPUBuffer, n: number) => Array.from(await rt.read(b, n));
  const out = {
    y: await read(y, L.rows * L.outDim), dx: await read(dx, L.rows * L.inDim),
    ny: await read(ny, R.rows * R.dim),
  };
  rt.destroy();
  ctx.destroy();
  return { adapter: ctx.adapterDescription, out };
}

(window as unknown as { runKernels: typeof run; kernelsReady: boolean }).runKernels = run;
(window as unknown as { kernelsReady: boolean }).kernelsReady = true;
