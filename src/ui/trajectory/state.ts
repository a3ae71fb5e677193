// The open trajectory on the page: what the worker said about it (summary and observables), which frame is shown,
// playback settings, and the g(r) over a frame range. Frames themselves stay in the file; the page holds the one
// it shows (in the workbench store's `frame`).

import { create } from 'zustand';
import type { RdfResult } from '../geometry/rdf';
import type { TrajectorySummary } from './open';

export interface OpenTrajectoryView {
  /** The parser worker's id for it (frame and g(r) requests). */
  id: number;
  name: string;
  summary: TrajectorySummary;
}

export interface TrajectoryState {
  /** A file being indexed: name, fraction read (0..1) and frames found so far. */
  opening: { fileName: string; fraction: number; frames: number } | null;
  open: OpenTrajectoryView | null;
  /** Frame shown (0-based). */
  index: number;
  playing: boolean;
  /** Playback: frames shown per second and frames advanced per tick. */
  fps: number;
  stride: number;
  /** The viewer shows this trajectory's frames; false once MD runs (from one of its frames or from the start). */
  attached: boolean;
  /** Frame range of the RDF (inclusive, 0-based) and its result. */
  rdf: (RdfResult & { label: string; frames: number }) | null;
  /** Why the last file did not open as a trajectory (frames that are not one system), shown in the timeline. */
  refusal: string | null;
  /** Bumped when plots should redraw. */
  version: number;
}

export const useTrajectory = create<TrajectoryState>(() => ({
  opening: null,
  open: null,
  index: 0,
  playing: false,
  fps: 10,
  stride: 1,
  attached: false,
  rdf: null,
  refusal: null,
  version: 0,
}));

/** Time of frame k in ps for plots and the status bar: the file's time if every frame has one, else null. */
export function frameTimePs(s: TrajectorySummary, k: number): number | null {
  return s.has.time ? s.series.time_fs[k] / 1000 : null;
}
