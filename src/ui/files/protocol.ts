// Messages between the page and the structure parser worker: a request per file (a single structure, or a
// trajectory kept open in the worker), frames and g(r) of the open trajectory on demand; answered by id.

import type { Structure } from '../../io/structure';
import type { RdfResult } from '../geometry/rdf';
import type { TrajectorySummary } from '../trajectory/open';
import type { FileProblem, ParseOutcome } from './parseStructure';

interface FileRequest {
  id: number;
  fileName: string;
  /** The file itself (a File or Blob is passed by reference: its bytes are read in the worker). */
  blob: Blob;
  limit: number;
}

/** The first frame of a file, read whole (built-in systems). */
export interface ParseRequest extends FileRequest {
  kind: 'parse';
}

/** Index and read a file as a trajectory; it stays open in the worker (replacing the one before) for frame requests. */
export interface OpenTrajectoryRequest extends FileRequest {
  kind: 'open-trajectory';
}

/** Frame `frame` (0-based) of the trajectory opened by request `trajectory`. */
export interface FrameRequest {
  kind: 'frame';
  id: number;
  trajectory: number;
  frame: number;
}

/** g(r) over frames from..to (inclusive) every `stride` of the open trajectory; zA/zB 0 = any element. */
export interface RdfQuery {
  from: number;
  to: number;
  stride: number;
  zA: number;
  zB: number;
  rMax: number;
  bins: number;
}

export interface RdfRequest extends RdfQuery {
  kind: 'rdf';
  id: number;
  trajectory: number;
}

export type ParseRequestMessage = ParseRequest | OpenTrajectoryRequest | FrameRequest | RdfRequest;

export type TrajectoryOutcome =
  | { ok: true; summary: TrajectorySummary }
  /** `first`: frame 1 when the file is readable but its frames are not the same atoms (it can be opened alone). */
  | { ok: false; error: FileProblem; first?: Structure };

export type FrameOutcome = { ok: true; structure: Structure } | { ok: false; error: FileProblem };

export type RdfOutcome = { ok: true; rdf: RdfResult | null; frames: number } | { ok: false; error: FileProblem };

export type ParseReply =
  | { kind: 'parsed'; id: number; outcome: ParseOutcome }
  | { kind: 'progress'; id: number; fraction: number; frames: number }
  | { kind: 'trajectory'; id: number; outcome: TrajectoryOutcome }
  | { kind: 'frame'; id: number; outcome: FrameOutcome }
  | { kind: 'rdf'; id: number; outcome: RdfOutcome };
