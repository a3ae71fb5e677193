// Page side of the MD worker: sends commands, and folds what comes back (frames, thermo rows, state,
// errors, recoveries) into the store. Unwrapped positions, MSD and tracked measurements are updated
// here per frame because they are O(N) and the viewer needs them anyway.

import type { Structure } from '../../io/structure';
import type { LoadedModel } from '../../model/config';
import { cellFrame, unwrapStep } from '../../geometry/cell';
import { measure } from '../geometry/measure';
import { appendThermo, emptyThermo, notify, useWorkbench, type Frame } from '../store';
import type { Pull } from '../../md/steering';
import type { FramePayload, FromWorker, PlainStructure, ToWorker } from './protocol';

/** Frames kept for extXYZ export; beyond this every other frame is dropped (the stride doubles). */
const MAX_TRAJECTORY_FRAMES = 2000;

let worker: Worker | null = null;
let keepEvery = 1;
let framesSeen = 0;
let initialUnwrapped: Float64Array | null = null;
/** Id of the last system sent to the worker: what the worker says about an earlier one is dropped (protocol.ts). */
let systemId = 0;

function post(msg: ToWorker, transfer: Transferable[] = []): void {
  if (!worker) throw new Error('the MD worker is not running');
  worker.postMessage(msg, transfer);
}

export function startEngine(): void {
  if (worker) return;
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'scaip-md' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => handle(ev.data);
  worker.onerror = (ev) => {
    notify('error', `The MD worker failed: ${ev.message || 'unknown error'}`);
    useWorkbench.setState({ running: false, busy: null });
  };
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
  if (!hasGpu) {
    useWorkbench.setState({
      gpuNotice: 'WebGPU is not available in this browser (navigator.gpu is missing): simulations run on the CPU, which is much slower.',
    });
  }
  post({ kind: 'init', preferGpu: hasGpu });
}

function handle(msg: FromWorker): void {
  if ('system' in msg && msg.system !== systemId) return;
  switch (msg.kind) {
    case 'backend':
      useWorkbench.setState((s) => ({
        backend: msg.backend,
        backendDetail: msg.detail,
        gpuNotice: msg.notice ?? s.gpuNotice,
        params: { ...s.params, backend: msg.backend },
      }));
      break;
    case 'ready':
      if (msg.what === 'system') useWorkbench.setState({ busy: null, engineDetail: msg.detail });
      else useWorkbench.setState({ engineDetail: msg.detail });
      break;
    case 'frame':
      onFrame(msg.frame, msg.stepsPerSecond);
      break;
    case 'state':
      useWorkbench.setState({ running: msg.running, busy: msg.busy });
      break;
    case 'recovered':
      truncateFrom(msg.fromStep);
      useWorkbench.setState((s) => ({ recoveries: s.recoveries + 1 }));
      notify('warning', msg.message);
      break;
    case 'error':
      notify('error', msg.message);
      if (msg.fatal) useWorkbench.setState({ running: false, busy: null });
      break;
  }
}

function onFrame(f: FramePayload, stepsPerSecond: number): void {
  const s = useWorkbench.getState();
  if (!s.system || f.positions.length !== s.system.positions.length) return;
  const cf = cellFrame(f.cell, s.system.pbc);
  const prev = s.frame;
  const unwrapped = prev ? unwrapStep(prev.unwrapped, f.positions, prev.positions, cf) : f.positions.slice();
  if (!initialUnwrapped) initialUnwrapped = unwrapped.slice();
  const frame: Frame = { step: f.step, time_fs: f.time_fs, positions: f.positions, unwrapped, cell: f.cell };

  for (const r of f.thermo) appendThermo(s.thermo, r);
  const time_ps = f.time_fs / 1000;

  // MSD from the unwrapped trajectory against the first frame of this system.
  const msd = s.msd;
  let sum = 0;
  for (let k = 0; k < unwrapped.length; k++) sum += (unwrapped[k] - initialUnwrapped[k]) ** 2;
  msd.time_ps.push(time_ps);
  msd.msd.push(sum / (unwrapped.length / 3));

  for (const m of s.tracked) {
    const v = measure(f.positions, m.atoms, cf);
    if (v) {
      m.time_ps.push(time_ps);
      m.values.push(v.value);
    }
  }

  framesSeen++;
  const traj = s.trajectory;
  if (framesSeen % keepEvery === 0) {
    traj.push(frame);
    if (traj.length > MAX_TRAJECTORY_FRAMES) {
      const kept = traj.filter((_, i) => i % 2 === 0);
      traj.length = 0;
      traj.push(...kept);
      keepEvery *= 2;
    }
  }
  const n = s.system.numbers.length;
  const dt = s.params.timestep;
  useWorkbench.setState({
    frame,
    frameVersion: s.frameVersion + 1,
    thermoVersion: s.thermoVersion + 1,
    speed: {
      stepsPerSecond,
      atomStepsPerSecond: stepsPerSecond * n,
      nsPerDay: (stepsPerSecond * dt * 86400) / 1e6,
    },
  });
}

/** After a recovery from the checkpoint at `step`, drop that step and what follows: the worker sends them again. */
function truncateFrom(step: number): void {
  const s = useWorkbench.getState();
  const t = s.thermo;
  const keep = t.step.findIndex((x) => x >= step);
  if (keep >= 0) for (const col of Object.values(t) as number[][]) col.length = keep;
  const cut = t.time_ps.length ? t.time_ps[t.time_ps.length - 1] : -1;
  const trimAfter = (time: number[], values: number[]) => {
    const k = time.findIndex((x) => x > cut + 1e-12);
    if (k >= 0) { time.length = k; values.length = k; }
  };
  trimAfter(s.msd.time_ps, s.msd.msd);
  for (const m of s.tracked) trimAfter(m.time_ps, m.values);
  const traj = s.trajectory.filter((f) => f.step < step);
  useWorkbench.setState({ trajectory: traj, thermoVersion: s.thermoVersion + 1 });
}

function plain(st: Structure): PlainStructure {
  return {
    numbers: st.numbers.slice(),
    positions: st.positions.slice(),
    cell: st.cell ? st.cell.slice() : null,
    pbc: [...st.pbc] as PlainStructure['pbc'],
    charge: st.charge,
    spin: st.spin,
    arrays: startVelocities(st),
  };
}

/** The structure's velocities or momenta (a trajectory frame continued), for the engine to start from. */
function startVelocities(st: Structure): PlainStructure['arrays'] {
  const n3 = st.numbers.length * 3;
  const v = st.arrays?.velocities;
  const p = st.arrays?.momenta;
  if (v instanceof Float64Array && v.length === n3) return { velocities: v.slice() };
  if (p instanceof Float64Array && p.length === n3) return { momenta: p.slice() };
  return undefined;
}

/**
 * Make `st` the current system: clears plots, picks and trajectory, and hands it to the engine. Callers go through
 * ui/system/admit.ts, which checks the system against the model first.
 */
export function setSystem(st: Structure, name: string): void {
  framesSeen = 0;
  keepEvery = 1;
  initialUnwrapped = null;
  const first: Frame = { step: 0, time_fs: 0, positions: st.positions.slice(), unwrapped: st.positions.slice(), cell: st.cell ? st.cell.slice() : null };
  useWorkbench.setState((s) => ({
    system: st,
    systemName: name,
    systemError: null,
    frame: first,
    frameVersion: s.frameVersion + 1,
    trajectory: [],
    thermo: emptyThermo(),
    thermoVersion: s.thermoVersion + 1,
    msd: { time_ps: [], msd: [] },
    rdf: null,
    picks: [],
    tracked: [],
    running: false,
    busy: 'preparing system',
  }));
  const { params, allowUntrainedElements } = useWorkbench.getState();
  post({ kind: 'system', id: ++systemId, structure: plain(st), params, allowUntrainedElements });
}

/** The engine drops its system (refused for the model now loaded); the page keeps showing it and its history. */
export function unloadSystem(): void {
  post({ kind: 'unload' });
  useWorkbench.setState({ running: false, busy: null });
}

export function sendModel(model: LoadedModel): void {
  const tensors = [...model.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data.slice() }));
  post({ kind: 'model', model: { config: model.config, tensors } }, tensors.map((t) => t.data.buffer));
}

export function sendParams(): void {
  if (worker) post({ kind: 'params', params: useWorkbench.getState().params });
}

export const engine = {
  run: () => post({ kind: 'run' }),
  pause: () => post({ kind: 'pause' }),
  step: (steps: number) => post({ kind: 'step', steps }),
  minimize: (maxSteps = 200, fmax = 0.05) => post({ kind: 'minimize', maxSteps, fmax }),
  loseDevice: () => post({ kind: 'lose-device' }),
  pull: (pull: Pull | null) => post({ kind: 'pull', pull }),
};
