/// <reference lib="webworker" />
// The MD worker. It owns a WebGPU device of its own (or runs on the CPU where WebGPU is missing),
// the force provider and the engine, and runs the step loop off the page's main thread: the page
// gets a frame (positions + one thermo row) per sample, a few per second, and never waits on the GPU.
// It keeps a checkpoint in host memory; when the device is lost it acquires a new one, rebuilds the
// engine from that checkpoint and carries on.

import { acquireDevice, type GpuContext } from '../../gpu/device';
import { DeviceLostError } from '../../gpu/errors';
import { ATOMIC_MASSES } from '../../io/elements';
import type { LoadedModel, Tensor } from '../../model/config';
import type { EngineCheckpoint, MdEngine, MdSettings, Sample } from '../../md/types';
import { degreesOfFreedom } from '../../md/types';
import { thermoRow, type ThermoRow } from '../../md/observables';
import { checkSample, defaultLimits, MdSafetyError } from '../../md/safety';
import { defaultTimeStep } from '../../md/setup';
import type { Pull } from '../../md/steering';
import type { SimParams } from '../store';
import { BuildScope, EngineBuildSupersededError } from './buildScope';
import { buildEngine, type EngineRequest } from './factory';
import type { FromWorker, PlainStructure, ToWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

/** Checkpoint at least this often (steps and seconds), so a device loss costs little. */
const CHECKPOINT_EVERY_S = 2;

let preferGpu = true;
let gpu: GpuContext | null = null;
let model: LoadedModel | null = null;
let structure: PlainStructure | null = null;
let params: SimParams | null = null;
let allowUntrainedElements = false;
let engine: MdEngine | null = null;
let checkpoint: EngineCheckpoint | null = null;
let checkpointTime = 0;
let running = false;
/** Id of the step loop that owns the engine (0 = none); a loop that is no longer the owner stops quietly. */
let activeLoop = 0;
let loopSeq = 0;
let pendingSteps = 0;
let recovering: Promise<void> | null = null;
let generation = 0; // bumps on every new system/model so stale loops stop
/** The page's id of the system the engine holds (protocol.ts): sent with every frame, state and ready about it. */
let systemId = 0;
let lastSampleWall = 0;
let lastSampleStep = 0;
let stepsPerSecond = 0;
let totalMass = 0;
/** The pull the user holds now (null: none); set again on every engine the worker builds. */
let pull: Pull | null = null;
/**
 * Requests that make an engine build in progress obsolete (another system, other forces, unload) counted as they
 * arrive, before they wait their turn in the queue: a build started for an older one is abandoned (buildScope.ts).
 */
let latestRequest = 0;
/** The forces of the last system or parameters that arrived: a 'params' message that changes them is a new request. */
let requestedProvider: SimParams['provider'] | null = null;
/** Builds in progress (normally at most one). */
const builds = new Set<BuildScope>();

function send(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function state(busy: string | null = null): void {
  send({ kind: 'state', system: systemId, running, busy });
}

function engineDetail(): string {
  if (!engine) return 'no engine';
  const where = engine.backend === 'webgpu' ? 'WebGPU engine' : 'CPU engine';
  return `${where}, ${params?.provider === 'lj' ? 'Lennard-Jones' : 'AllScAIP'} forces`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function init(wantGpu: boolean): Promise<void> {
  preferGpu = wantGpu;
  if (wantGpu) {
    try {
      gpu = await acquireDevice();
      watchDevice(gpu);
      send({ kind: 'backend', backend: 'webgpu', detail: gpu.adapterDescription, notice: null });
      return;
    } catch (e) {
      send({ kind: 'backend', backend: 'cpu', detail: 'CPU', notice: `WebGPU could not start (${errorText(e)}); running on the CPU, much slower.` });
      return;
    }
  }
  send({ kind: 'backend', backend: 'cpu', detail: 'CPU', notice: null });
}

/** Counts device losses, so a failed call can tell whether a loss happened since it started. */
let deviceLosses = 0;

function watchDevice(ctx: GpuContext): void {
  void ctx.lost.then((err) => {
    if (gpu !== ctx) return; // a device we already replaced
    deviceLosses++;
    recovering = recover(err.message.replace(/\.+$/, ''));
  });
}

/** How a lost device fails the work still pending on it: mappings aborted, operations failed. */
function looksLikeDeviceLoss(e: unknown): boolean {
  return e instanceof DeviceLostError || (e instanceof DOMException && (e.name === 'AbortError' || e.name === 'OperationError'));
}

/** After a GPU call failed: was it because the device went away? (device.lost resolves a moment later.) */
async function failedFromDeviceLoss(e: unknown, lossesBefore: number): Promise<boolean> {
  if (!gpu || e instanceof MdSafetyError) return false;
  // A busy machine can take a while to deliver device.lost (over 5 s seen with both CI cores loaded). An
  // aborted mapping is almost surely the loss, so it waits longer; any other error is reported after 5 s.
  const waitMs = looksLikeDeviceLoss(e) ? 30_000 : 5_000;
  for (let t = 0; t < waitMs / 10 && deviceLosses === lossesBefore; t++) await new Promise((r) => setTimeout(r, 10));
  return deviceLosses !== lossesBefore;
}

function settingsFrom(p: SimParams, numbers: Int32Array): MdSettings {
  return {
    ensemble: p.ensemble,
    dt: p.timestepAuto ? defaultTimeStep(numbers) : p.timestep,
    temperature: p.temperature,
    pressure: p.pressure,
    seed: p.seed,
    friction: p.friction,
    tauT: p.tau,
    nhcLength: 3,
    barostatInterval: 25,
    fireDtMax: 10,
    fireMaxStep: 0.2,
  };
}

function request(device: GPUDevice | null, resume: EngineCheckpoint | null, settings?: MdSettings): EngineRequest {
  const st = structure!;
  return {
    provider: params!.provider,
    model,
    device,
    // Only velocities or momenta are kept from the page's arrays: the engine starts from them when a frame is continued.
    structure: { ...st, info: {}, arrays: { ...st.arrays } as Record<string, Float64Array> },
    settings: settings ?? settingsFrom(params!, st.numbers),
    resume,
    allowUntrainedElements,
  };
}

/**
 * A new engine (fresh, or from `resume` with `settings`), its checkpoint and, with `first`, its first sample. `seq`:
 * the request it serves; when a newer one arrives before it is done (or came already), the build is abandoned and
 * this throws EngineBuildSupersededError at once: no engine, nothing sent, its GPU buffers destroyed.
 */
async function rebuild(resume: EngineCheckpoint | null, settings?: MdSettings, seq = latestRequest, first = false): Promise<Sample | null> {
  engine?.destroy();
  engine = null;
  const scope = new BuildScope(gpu?.device ?? null, `the engine for system ${systemId}`);
  builds.add(scope);
  try {
    if (seq !== latestRequest) scope.abandon();
    // A CPU build runs to its end once started: requests already queued are seen first.
    await scope.yieldToEvents();
    const built = await scope.step(buildEngine(request(scope.device, resume, settings)), (late) => late.destroy());
    scope.onAbandon(() => built.destroy());
    const pulled = pull;
    if (pulled) applyPull(pulled, built);
    const cp = await scope.step(built.checkpoint());
    const s = first ? await scope.step(built.sample()) : null;
    scope.adopt();
    engine = built;
    // A pull set or ended while the checkpoint was read.
    if (pull !== pulled) applyPull(pull);
    checkpoint = cp;
    checkpointTime = performance.now();
    send({ kind: 'ready', system: systemId, what: 'engine', detail: engineDetail() });
    return s;
  } catch (e) {
    // A failed build frees what it made, as an abandoned one does.
    scope.abandon();
    throw e;
  } finally {
    builds.delete(scope);
  }
}

/** Hand the pull to the engine; a refused one (SteeringError) is reported and dropped, the run goes on. */
function applyPull(p: Pull | null, to: MdEngine | null = engine): void {
  pull = p;
  if (!to) return;
  try {
    to.setPull(p);
  } catch (e) {
    pull = null;
    send({ kind: 'error', message: errorText(e), fatal: false });
  }
}

const superseded = (e: unknown) => e instanceof EngineBuildSupersededError;

async function setSystem(st: PlainStructure, p: SimParams, id: number, seq = latestRequest): Promise<void> {
  generation++;
  pull = null;
  running = false;
  pendingSteps = 0;
  structure = st;
  params = p;
  totalMass = Array.from(st.numbers).reduce((s, z) => s + (ATOMIC_MASSES[z] ?? 1), 0);
  await waitIdle();
  // The old system's loop has stopped and sent its last frame under the old id: what follows is this system's.
  systemId = id;
  rows = [];
  unposted = null;
  engine?.destroy();
  engine = null;
  checkpoint = null;
  if (p.provider === 'allscaip' && !model) {
    send({ kind: 'ready', system: systemId, what: 'system', detail: 'waiting for a model' });
    state();
    return;
  }
  state('preparing system');
  try {
    const s = (await rebuild(null, undefined, seq, true))!;
    lastSampleWall = performance.now();
    lastSampleStep = s.step;
    postSample(s);
    send({ kind: 'ready', system: systemId, what: 'system', detail: engineDetail() });
    state();
  } catch (e) {
    engine = null;
    // A newer request took over: what the page hears next is about that one.
    if (superseded(e)) return;
    send({ kind: 'error', message: `Could not set up the simulation: ${errorText(e)}`, fatal: true });
    state();
  }
}

/** No system and no engine until the page sends one: a run in progress stops, its frames stop coming. */
async function unload(): Promise<void> {
  generation++;
  running = false;
  pendingSteps = 0;
  pull = null;
  await waitIdle();
  engine?.destroy();
  engine = null;
  structure = null;
  checkpoint = null;
  rows = [];
  unposted = null;
  send({ kind: 'ready', system: systemId, what: 'system', detail: 'no engine: the system is not run with this model' });
  state();
}

async function setParams(p: SimParams, seq = latestRequest): Promise<void> {
  const old = params;
  params = p;
  if (!structure || !old) return;
  const engineChanged = old.provider !== p.provider;
  if (!engine) {
    // Nothing built yet (no model until now, the last setup failed, or this request abandoned it): build with the new choice.
    if (engineChanged) await setSystem(structure, p, systemId, seq);
    return;
  }
  const wasRunning = running;
  running = false;
  await waitIdle();
  try {
    if (engineChanged) {
      state('switching forces');
      postSample((await rebuild(null, undefined, seq, true))!);
    }
    else {
      // Settings are fixed per engine: continue the same trajectory under the new settings.
      const cp = await engine.checkpoint();
      await rebuild({ ...cp, settings: settingsFrom(p, structure.numbers) }, undefined, seq);
    }
  } catch (e) {
    if (superseded(e)) return;
    send({ kind: 'error', message: `Could not apply the new settings: ${errorText(e)}`, fatal: true });
    state();
    return;
  }
  if (wasRunning) start();
  else state();
}

function waitIdle(): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (activeLoop || recovering ? setTimeout(check, 10) : resolve());
    check();
  });
}

function rowOf(s: Sample): ThermoRow {
  const n = structure!.numbers.length;
  const settings = engine?.settings;
  return thermoRow(s, degreesOfFreedom(settings?.ensemble ?? 'nve', n), totalMass, stepsPerSecond, settings?.dt ?? 0);
}

/** NaN/Inf, exploding forces or runaway temperature in this sample, as an error naming step and atoms (else null). */
function unsafe(s: Sample): Error | null {
  const st = structure!;
  const settings = engine!.settings;
  if (settings.ensemble === 'minimize') return null;
  const masses = Float64Array.from(st.numbers, (z) => ATOMIC_MASSES[z] ?? 1);
  return checkSample(s, st.numbers, masses, degreesOfFreedom(settings.ensemble, st.numbers.length), defaultLimits(settings.temperature));
}

/** Frames go to the page at most this often; thermo rows in between are batched with the next frame. */
const FRAME_INTERVAL_MS = 100;
let rows: ThermoRow[] = [];
let lastPost = 0;
let unposted: Sample | null = null;

/** Record a sample; post a frame if enough time passed (or `force`). */
function postSample(s: Sample, force = true): void {
  rows.push(rowOf(s));
  unposted = s;
  const now = performance.now();
  if (!force && now - lastPost < FRAME_INTERVAL_MS) return;
  lastPost = now;
  unposted = null;
  const positions = s.positions.slice();
  const cell = s.cell ? s.cell.slice() : null;
  const thermo = rows;
  rows = [];
  send({ kind: 'frame', system: systemId, frame: { step: s.step, time_fs: s.time, positions, cell, thermo }, stepsPerSecond }, [positions.buffer]);
}

function flushSamples(): void {
  if (unposted) {
    const s = unposted;
    rows.pop(); // postSample pushes its row again
    postSample(s, true);
  }
}

/** Let queued messages (pause, parameters, device loss) in: the CPU engine never yields by itself. */
let lastYield = 0;
async function yieldToEvents(): Promise<void> {
  if (performance.now() - lastYield < 15) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  lastYield = performance.now();
}

function start(): void {
  if (!engine) return;
  running = true;
  state();
  void loop();
}

/** The step loop: chunks of `stepsPerFrame` steps, one sample each, until paused or out of steps. */
async function loop(): Promise<void> {
  if (activeLoop) return;
  const id = ++loopSeq;
  activeLoop = id;
  const gen = generation;
  try {
    while ((running || pendingSteps > 0) && (engine || recovering) && gen === generation && activeLoop === id) {
      if (recovering) await recovering;
      if (!engine || gen !== generation || activeLoop !== id) break;
      const perFrame = Math.max(1, params!.stepsPerFrame);
      const chunk = running ? perFrame : Math.min(perFrame, pendingSteps);
      const eng = engine;
      const lossesBefore = deviceLosses;
      let stop = false;
      let failure: Error | null = null;
      try {
        await eng.run(chunk, {
          sampleEvery: perFrame,
          onSample: (s) => {
            failure = unsafe(s);
            if (failure) return 'stop'; // the last good state is the checkpoint; this sample is not shown
            const now = performance.now();
            if (now > lastSampleWall && s.step > lastSampleStep) stepsPerSecond = ((s.step - lastSampleStep) * 1000) / (now - lastSampleWall);
            lastSampleWall = now;
            lastSampleStep = s.step;
            postSample(s, false);
          },
        });
        await yieldToEvents();
        if (failure) throw failure;
      } catch (e) {
        if (activeLoop !== id) break; // orphaned by a recovery that started a fresh loop
        // The device went away mid-run: recovery (started by device.lost) takes over and this loop goes on.
        if (recovering || eng !== engine || (await failedFromDeviceLoss(e, lossesBefore))) continue;
        stop = true;
        await onRunFailure(e);
      }
      if (stop) break;
      if (!running) pendingSteps = Math.max(0, pendingSteps - chunk);
      if (engine && performance.now() - checkpointTime > CHECKPOINT_EVERY_S * 1000) {
        checkpoint = await engine.checkpoint();
        checkpointTime = performance.now();
      }
    }
  } finally {
    if (activeLoop === id) {
      flushSamples();
      activeLoop = 0;
      pendingSteps = 0;
      if (gen === generation) {
        running = false;
        state();
      }
    }
  }
}

/** A run that blew up (NaN, runaway temperature, exploding forces): pause, say why, restore the last good state. */
async function onRunFailure(e: unknown): Promise<void> {
  running = false;
  pendingSteps = 0;
  const why = errorText(e);
  try {
    if (checkpoint) {
      const s = (await rebuild(checkpoint, undefined, latestRequest, true))!;
      rows = [];
      unposted = null;
      send({ kind: 'recovered', system: systemId, fromStep: checkpoint.step, message: `The run stopped: ${why}. Restored the last good state (step ${checkpoint.step}).` });
      postSample(s);
      return;
    }
  } catch (e2) {
    if (superseded(e2)) return;
    send({ kind: 'error', message: `The run stopped: ${why}; restoring the last good state failed too: ${errorText(e2)}`, fatal: true });
    return;
  }
  send({ kind: 'error', message: `The run stopped: ${why}`, fatal: true });
}

/** Device lost: new device, engine rebuilt from the last checkpoint, run continues if it was running. */
async function recover(reason: string): Promise<void> {
  state('recovering from device loss');
  try {
    engine = null; // its buffers died with the device
    gpu = await acquireDevice();
    watchDevice(gpu);
    send({ kind: 'backend', backend: 'webgpu', detail: gpu.adapterDescription, notice: null });
    if (structure && params && checkpoint) {
      const s = (await rebuild(checkpoint, undefined, latestRequest, true))!;
      // 'recovered' first: the page drops what it has from this step on, then takes this frame; rows still
      // batched from the lost run are dropped here too.
      rows = [];
      unposted = null;
      send({ kind: 'recovered', system: systemId, fromStep: s.step, message: `${reason}. Recovered on a new device from the checkpoint at step ${s.step}.` });
      postSample(s);
    }
  } catch (e) {
    running = false;
    if (!superseded(e)) send({ kind: 'error', message: `${reason}. Recovery failed: ${errorText(e)}`, fatal: true });
  } finally {
    recovering = null;
  }
  // A run in progress carries on in a fresh loop; the old one (maybe still stuck on the dead device) is orphaned.
  if (running && engine) {
    activeLoop = 0;
    void loop();
  }
  state();
}

function toModel(m: { config: LoadedModel['config']; tensors: { name: string; shape: number[]; data: Float32Array }[] }): LoadedModel {
  const tensors = new Map<string, Tensor>();
  for (const t of m.tensors) tensors.set(t.name, { shape: t.shape, data: t.data });
  return { config: m.config, tensors };
}

// Messages are handled one after another (a system must not be set up before the device exists);
// the run loop itself is not awaited here, so pause and device-loss messages still get through.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  // Pausing must not wait behind a long setup: it only flips a flag.
  if (msg.kind === 'pause') {
    running = false;
    pendingSteps = 0;
    // With a loop in progress, "paused" is reported when it has stopped and sent its last frame.
    if (!activeLoop) state();
    return;
  }
  // The pointer moves many times a second: a pull is a uniform write, never queued behind a rebuild.
  if (msg.kind === 'pull') {
    applyPull(msg.pull);
    return;
  }
  // A new system, other forces or unloading make a build in progress obsolete now, not when their turn comes.
  let seq = latestRequest;
  if (msg.kind === 'system' || msg.kind === 'unload' || (msg.kind === 'params' && msg.params.provider !== requestedProvider)) {
    seq = ++latestRequest;
    for (const b of builds) b.abandon();
  }
  if (msg.kind === 'system' || msg.kind === 'params') requestedProvider = msg.params.provider;
  queue = queue.then(() => handle(msg, seq));
};

async function handle(msg: ToWorker, seq: number): Promise<void> {
  try {
    switch (msg.kind) {
      case 'init':
        await init(msg.preferGpu);
        break;
      case 'model':
        // The page follows with the system to run it on (one engine build).
        model = toModel(msg.model);
        break;
      case 'system':
        allowUntrainedElements = msg.allowUntrainedElements;
        await setSystem(msg.structure, msg.params, msg.id, seq);
        break;
      case 'params':
        await setParams(msg.params, seq);
        break;
      case 'run':
        start();
        break;
      case 'step':
        if (engine && !running) {
          pendingSteps += msg.steps;
          void loop();
        }
        break;
      case 'minimize':
        await minimize(msg.maxSteps, seq);
        break;
      case 'unload':
        await unload();
        break;
      case 'lose-device':
        // As a driver reset would: the device dies under the engine; device.lost drives the recovery.
        if (gpu) gpu.device.destroy();
        else send({ kind: 'error', message: 'No GPU device to lose: the engine runs on the CPU.', fatal: false });
        break;
    }
  } catch (e) {
    send({ kind: 'error', message: errorText(e), fatal: false });
  }
}

/** FIRE minimization as its own engine run, then back to the dynamics settings from the minimized state. */
async function minimize(maxSteps: number, seq: number): Promise<void> {
  if (!engine || !params || !structure) return;
  running = false;
  await waitIdle();
  state('minimizing');
  try {
    const cp = await engine.checkpoint();
    const dyn = settingsFrom(params, structure.numbers);
    await rebuild({ ...cp, settings: { ...dyn, ensemble: 'minimize' } }, undefined, seq);
    await engine!.run(maxSteps, { sampleEvery: Math.max(1, Math.floor(maxSteps / 20)), onSample: (s) => postSample(s, false) });
    flushSamples();
    const done = await engine!.checkpoint();
    await rebuild({ ...done, settings: dyn }, undefined, seq);
  } catch (e) {
    if (superseded(e)) return;
    send({ kind: 'error', message: `Minimization failed: ${errorText(e)}`, fatal: false });
  }
  state();
}
