// Showing a trajectory's frames: a frame is asked of the parser worker and, when it arrives, becomes the workbench's
// current frame (the viewer, measurements and status bar follow it). One request is in flight at a time and the
// latest wish wins, so scrubbing fast never queues up reads; playback advances only once the shown frame arrived.

import { notify, useWorkbench, type Frame } from '../store';
import { describeProblem } from '../files/parseStructure';
import { frameOffThread } from '../files/parseClient';
import { useTrajectory } from './state';

let inFlight = false;
/** The trajectory frame last put on the workbench (null until one is). */
let shown: Frame | null = null;
let wanted: number | null = null;
let timer: number | null = null;

function clamp(k: number): number {
  const open = useTrajectory.getState().open;
  return open ? Math.max(0, Math.min(open.summary.frames - 1, Math.round(k))) : 0;
}

async function fetchLoop(): Promise<void> {
  if (inFlight) return;
  inFlight = true;
  try {
    while (wanted !== null) {
      const k = wanted;
      wanted = null;
      const { open, attached } = useTrajectory.getState();
      if (!open || !attached) return;
      const outcome = await frameOffThread(open.id, k, open.summary.fileName);
      const now = useTrajectory.getState();
      if (now.open !== open || !now.attached) return;
      if (!outcome.ok) {
        pause();
        notify('error', `Could not read frame ${k + 1}: ${describeProblem(outcome.error)}`);
        return;
      }
      const st = outcome.structure;
      const ws = useWorkbench.getState();
      if (!ws.system || ws.system.numbers.length !== st.numbers.length) return;
      const series = open.summary.series;
      const frame: Frame = {
        step: Number.isFinite(series.step[k]) ? series.step[k] : k,
        time_fs: Number.isFinite(series.time_fs[k]) ? series.time_fs[k] : 0,
        positions: st.positions,
        unwrapped: st.positions,
        cell: st.cell,
      };
      shown = frame;
      useWorkbench.setState((s) => ({ frame, frameVersion: s.frameVersion + 1 }));
      useTrajectory.setState({ index: k });
    }
  } finally {
    inFlight = false;
  }
}

export function shownFrame(): Frame | null {
  return shown;
}

/** Forget the frame shown (a new trajectory is opened). */
export function resetShown(): void {
  shown = null;
}

/** Show frame k (clamped to the trajectory). */
export function showFrame(k: number): Promise<void> {
  wanted = clamp(k);
  useTrajectory.setState({ index: wanted });
  return fetchLoop();
}

export function pause(): void {
  if (timer !== null) window.clearInterval(timer);
  timer = null;
  if (useTrajectory.getState().playing) useTrajectory.setState({ playing: false });
}

/** Play from the shown frame at the chosen frame rate and stride; stops at the last frame. */
export function play(): void {
  const t = useTrajectory.getState();
  if (!t.open || !t.attached) return;
  pause();
  if (t.index >= t.open.summary.frames - 1) void showFrame(0);
  useTrajectory.setState({ playing: true });
  timer = window.setInterval(() => {
    const s = useTrajectory.getState();
    if (!s.open || !s.attached) return pause();
    if (inFlight || wanted !== null) return; // the last frame is still on its way: wait rather than queue
    const next = s.index + s.stride;
    if (next > s.open.summary.frames - 1) return pause();
    void showFrame(next);
  }, 1000 / Math.max(1, t.fps));
}

/** New frame rate: a running playback restarts at the new rate. */
export function setFps(fps: number): void {
  useTrajectory.setState({ fps: Math.max(1, Math.min(60, fps)) });
  if (useTrajectory.getState().playing) play();
}
