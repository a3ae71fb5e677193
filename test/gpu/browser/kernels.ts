// Browser side of test/gpu/browser.test.ts: the same kernels as the Node tests, acquired through
// navigator.gpu. Inputs arrive as plain arrays; outputs go back as plain arrays.
import { acquireDevice } from '../../../src/gpu/device';
import { GpuRuntime } from '../../../src/gpu/runtime';
import { linearBackwardInput, linearForward } from '../../../src/gpu/ops/linear';
import { rmsNormForward } from '../../../src/gpu/ops/elementwise';
import { flashNodeAttentionBackward, flashNodeAttentionForward, packGeometry, packSystems } from '../../../src/gpu/ops/flashNodeAttention';

export interface BrowserKernelInput {
  linear: { x: number[]; W: number[]; b: number[]; dy: number[]; rows: number; inDim: number; outDim: number };
  norm: { x: number[]; w: number[]; rows: number; dim: number; eps: number };
  node: {
    qkv: number[]; dO: number[]; positions: number[]; images: number[]; omega: number[]; radialWeight: number[];
    sysStart: number[]; imageStart: number[]; heads: number; headDim: number;
  };
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

  const A = input.node;
  const N = A.sysStart[A.sysStart.length - 1], H = A.heads * A.headDim;
  const geom = packGeometry(A.positions, A.images, A.omega, A.radialWeight);
  const shape = { atoms: N, systems: A.sysStart.length - 1, heads: A.heads, headDim: A.headDim, numFreq: A.omega.length };
  const bufs = {
    shape, offsets: geom.offsets, qkv: up('qkv', A.qkv), systems: rt.upload('sys', packSystems(A.sysStart, A.imageStart)),
    geom: rt.upload('geom', geom.data), o: nan('o', N * H), stats: nan('stats', 2 * N * A.heads),
  };
  const dq = nan('dq', N * H), dkv = nan('dkv', 2 * N * H), geomGrad = nan('gg', 12 * N);
  flashNodeAttentionForward(rt, rec, bufs);
  flashNodeAttentionBackward(rt, rec, { ...bufs, dO: up('dO', A.dO), dq, dkv, geomGradHeads: nan('ggh', 12 * N * A.heads), geomGrad });
  rec.submit();

  const read = async (b: GPUBuffer, n: number) => Array.from(await rt.read(b, n));
  const out = {
    y: await read(y, L.rows * L.outDim), dx: await read(dx, L.rows * L.inDim),
    ny: await read(ny, R.rows * R.dim),
    o: await read(bufs.o, N * H), dq: await read(dq, N * H), dkv: await read(dkv, 2 * N * H), geomGrad: await read(geomGrad, 12 * N),
  };
  rt.destroy();
  ctx.destroy();
  return { adapter: ctx.adapterDescription, out };
}

(window as unknown as { runKernels: typeof run; kernelsReady: boolean }).runKernels = run;
(window as unknown as { kernelsReady: boolean }).kernelsReady = true;
