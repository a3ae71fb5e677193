// The page and the real MD worker on WebGPU (Dawn for Node on SwiftShader) joined by an in-process message channel,
// as test/ui/engineSystemSwitch.test.ts does on the CPU. The worker is building the default model's engine for the
// 64-water box (about 55 kernels to compile and one model step: a minute here, minutes in the browser) when the page
// asks for Lennard-Jones on another system, as picking a trajectory or other forces does right after the page loads.
// The new request must not wait behind the obsolete build: that build is abandoned at its next await (nothing more
// compiled or allocated for it, what it allocated destroyed, nothing posted about it) and the new engine is ready
// with the new system's first sample. Before, the worker finished the whole model build first.
// The channel is test/ui/workerLoopback.ts, which engineSystemSwitch.test.ts uses too.
import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Structure } from '../../src/io/structure';
import { readXyz } from '../../src/io/xyz';
import { fccLattice } from '../../src/md/setup';
import { loadModelFromPath } from '../../src/model/loadNode';
import type { FromWorker } from '../../src/ui/engine/protocol';
import { useWorkbench } from '../../src/ui/store';
import { installWorkerLoopback, later } from './workerLoopback';

/** Everything the worker made on the device, in order (the worker's own device, watched from outside). */
interface Made { kind: 'buffer' | 'pipeline'; label: string; destroyed: boolean }
const made: Made[] = [];
const uncaptured: string[] = [];
/** What the worker posted to the page, and whether it had received the request for the second system by then. */
const toPage: { msg: FromWorker; afterRequest: boolean }[] = [];
/** How many objects had been made when the worker received the request for the second system. */
let madeAtRequest = -1;
let onFirstPipeline: (() => void) | null = null;

/** The device the worker acquires, watched: what it makes and destroys, and errors nobody captured. */
function watch(device: GPUDevice): void {
  const createBuffer = device.createBuffer.bind(device);
  const createComputePipeline = device.createComputePipeline.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const b = createBuffer(d);
    const entry: Made = { kind: 'buffer', label: d.label ?? '', destroyed: false };
    made.push(entry);
    const destroy = b.destroy.bind(b);
    b.destroy = () => { entry.destroyed = true; destroy(); };
    return b;
  };
  device.createComputePipeline = (d: GPUComputePipelineDescriptor) => {
    const p = createComputePipeline(d);
    made.push({ kind: 'pipeline', label: d.label ?? '', destroyed: false });
    if (onFirstPipeline) { const f = onFirstPipeline; onFirstPipeline = null; f(); }
    return p;
  };
  device.addEventListener('uncapturederror', (ev) => uncaptured.push((ev as GPUUncapturedErrorEvent).error.message));
}

const g = globalThis as Record<string, unknown>;
const savedNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
let uninstall = () => {};

let client: typeof import('../../src/ui/engine/client');

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) {
      const s = useWorkbench.getState();
      throw new Error(`${what}: not within ${ms / 1000} s (busy ${s.busy}, system ${s.systemName}, engine ${s.engineDetail})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) g[k] = v;
  // The page sees WebGPU where the browser has it (navigator.gpu): the real Dawn instance, its device watched.
  const gpu = create([]);
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (o?: GPURequestAdapterOptions) => {
    const adapter = await requestAdapter(o);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (d?: GPUDeviceDescriptor) => {
      const device = await requestDevice(d);
      watch(device);
      return device;
    };
    return adapter;
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  uninstall = installWorkerLoopback({
    toPage: (msg) => { toPage.push({ msg, afterRequest: madeAtRequest >= 0 }); },
    toWorker: (msg) => { if (msg.kind === 'system' && msg.id === 2) madeAtRequest = made.length; },
  });
  await import('../../src/ui/engine/worker');
  client = await import('../../src/ui/engine/client');
  client.startEngine();
  await until('the worker\'s WebGPU device', () => useWorkbench.getState().backend === 'webgpu', 60_000);
}, 120_000);

afterAll(() => {
  uninstall();
  if (savedNavigator) Object.defineProperty(globalThis, 'navigator', savedNavigator);
  else delete g.navigator;
});

test('Lennard-Jones for another system while the default model\'s engine is built abandons that build at its next await', async () => {
  const model = await loadModelFromPath('public/models/water-spcfw-smooth');
  const water = readXyz(readFileSync('public/systems/water64_box.xyz', 'utf8'), 'water64_box.xyz')[0];
  const argon: Structure = fccLattice(18, 2, 5.26);
  client.sendModel(model);
  useWorkbench.setState((s) => ({ params: { ...s.params, provider: 'allscaip' } }));
  // The second request goes out once the model build is compiling: the worker sees it at the build's first await.
  let tRequest = 0;
  onFirstPipeline = () => later(() => {
    tRequest = performance.now();
    useWorkbench.setState((s) => ({ params: { ...s.params, provider: 'lj' } }));
    client.setSystem(argon, 'argon');
  });
  const t0 = performance.now();
  client.setSystem(water, 'water box');
  await until('the Lennard-Jones engine', () => {
    const s = useWorkbench.getState();
    return s.systemName === 'argon' && s.busy === null && s.thermo.step.length > 0;
  }, 600_000);
  const tReady = performance.now();

  const s = useWorkbench.getState();
  expect(s.engineDetail).toBe('WebGPU engine, Lennard-Jones forces');
  expect(s.thermo.step).toEqual([0]);
  for (let k = 0; k < argon.positions.length; k++) expect(Math.abs(s.frame!.positions[k] - argon.positions[k])).toBeLessThan(1e-5);

  // The model build had begun (its engine buffers and first kernels) when the request reached the worker.
  expect(madeAtRequest).toBeGreaterThan(0);
  const begun = made.slice(0, madeAtRequest);
  expect(begun.filter((m) => m.label === 'md params')).toHaveLength(1);
  expect(begun.some((m) => m.kind === 'pipeline')).toBe(true);
  // From the request on, the next thing made is the new engine's first buffer: the old build compiled and
  // allocated nothing more (before: all of the model's kernels and buffers came first).
  const newStart = made.findIndex((m, i) => i >= madeAtRequest && m.label === 'md params');
  const oldAfterRequest = made.slice(madeAtRequest, newStart < 0 ? made.length : newStart);
  console.log(`request after ${madeAtRequest} objects of the model build (${begun.filter((m) => m.kind === 'pipeline').length} pipelines); ` +
    `made for the old build after it: ${oldAfterRequest.length} (${oldAfterRequest.filter((m) => m.kind === 'pipeline').length} pipelines); ` +
    `model build started ${((tRequest - t0) / 1000).toFixed(1)} s before the request, Lennard-Jones ready ${((tReady - tRequest) / 1000).toFixed(1)} s after it`);
  expect(newStart).toBe(madeAtRequest);
  expect(oldAfterRequest).toEqual([]);
  // What the abandoned build had allocated is freed.
  expect(begun.filter((m) => m.kind === 'buffer' && !m.destroyed).map((m) => m.label)).toEqual([]);

  // Only the new system's messages after the request: no 'ready' (nor anything else) about the abandoned one.
  const afterRequest = toPage.filter((p) => p.afterRequest).map((p) => p.msg);
  expect(afterRequest.filter((m) => 'system' in m && m.system !== 2)).toEqual([]);
  expect(toPage.filter((p) => p.msg.kind === 'ready' && p.msg.system === 1)).toEqual([]);
  expect(toPage.filter((p) => p.msg.kind === 'error')).toEqual([]);

  // The device is sound after the abandonment: the new engine runs, and nothing raised an uncaught GPU error.
  client.engine.step(4);
  await until('4 Lennard-Jones steps', () => (useWorkbench.getState().frame?.step ?? 0) >= 4 && !useWorkbench.getState().running, 120_000);
  expect(useWorkbench.getState().frame!.positions.every(Number.isFinite)).toBe(true);
  expect(uncaptured).toEqual([]);
}, 900_000);
