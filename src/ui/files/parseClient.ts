// Page side of the structure parser worker. Files over the size limit are refused here without being read; a
// worker that dies (out of memory on a hostile file) fails only the requests in flight and is replaced.

import type { RdfResult } from '../geometry/rdf';
import { MAX_STRUCTURE_FILE_BYTES, MAX_TRAJECTORY_FILE_BYTES, sizeProblem, type FileProblem, type ParseOutcome } from './parseStructure';
import type { FrameOutcome, ParseReply, ParseRequestMessage, RdfOutcome, RdfQuery, TrajectoryOutcome } from './protocol';

let worker: Worker | null = null;
let nextId = 0;

interface Pending {
  fileName: string;
  resolve: (reply: ParseReply) => void;
  progress?: (fraction: number, frames: number) => void;
  /** The answer this request gets when the worker dies under it. */
  failed: (problem: FileProblem) => ParseReply;
}
const pending = new Map<number, Pending>();

function failAll(problem: string): void {
  for (const [, p] of pending) p.resolve(p.failed({ fileName: p.fileName, line: null, problem }));
  pending.clear();
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./parseWorker.ts', import.meta.url), { type: 'module', name: 'scaip-parse' });
  w.onmessage = (ev: MessageEvent<ParseReply>) => {
    const msg = ev.data;
    const p = pending.get(msg.id);
    if (msg.kind === 'progress') {
      p?.progress?.(msg.fraction, msg.frames);
      return;
    }
    pending.delete(msg.id);
    p?.resolve(msg);
  };
  w.onerror = (ev) => {
    ev.preventDefault();
    w.terminate();
    if (worker === w) worker = null;
    failAll(`the parser stopped while reading it (${ev.message || 'out of memory?'})`);
  };
  worker = w;
  return w;
}

function send(msg: ParseRequestMessage, p: Omit<Pending, 'resolve'>): Promise<ParseReply> {
  return new Promise((resolve) => {
    pending.set(msg.id, { ...p, resolve });
    getWorker().postMessage(msg);
  });
}

/** Parse the first frame of `blob` in the parser worker. Never rejects: failures come back as the outcome. */
export async function parseStructureOffThread(blob: Blob, fileName: string, limit = MAX_STRUCTURE_FILE_BYTES): Promise<ParseOutcome> {
  const tooBig = sizeProblem(fileName, blob.size, limit);
  if (tooBig) return { ok: false, error: tooBig };
  const id = ++nextId;
  const r = await send({ kind: 'parse', id, fileName, blob, limit }, { fileName, failed: (error) => ({ kind: 'parsed', id, outcome: { ok: false, error } }) });
  return (r as Extract<ParseReply, { kind: 'parsed' }>).outcome;
}

/**
 * Open `blob` as a trajectory in the parser worker (indexed by byte offset, never read whole into the page);
 * it stays open there under the returned id for frameOffThread and rdfOffThread. Never rejects.
 */
export async function openTrajectoryOffThread(
  blob: Blob,
  fileName: string,
  progress?: (fraction: number, frames: number) => void,
): Promise<{ id: number; outcome: TrajectoryOutcome }> {
  const id = ++nextId;
  const tooBig = sizeProblem(fileName, blob.size, MAX_TRAJECTORY_FILE_BYTES);
  if (tooBig) return { id, outcome: { ok: false, error: tooBig } };
  const r = await send(
    { kind: 'open-trajectory', id, fileName, blob, limit: MAX_STRUCTURE_FILE_BYTES },
    { fileName, progress, failed: (error) => ({ kind: 'trajectory', id, outcome: { ok: false, error } }) },
  );
  return { id, outcome: (r as Extract<ParseReply, { kind: 'trajectory' }>).outcome };
}

/** Frame `frame` of the trajectory opened as `trajectory`. */
export async function frameOffThread(trajectory: number, frame: number, fileName: string): Promise<FrameOutcome> {
  const id = ++nextId;
  const r = await send({ kind: 'frame', id, trajectory, frame }, { fileName, failed: (error) => ({ kind: 'frame', id, outcome: { ok: false, error } }) });
  return (r as Extract<ParseReply, { kind: 'frame' }>).outcome;
}

export type { RdfQuery } from './protocol';

/** g(r) over a frame range of the trajectory opened as `trajectory`, computed in the worker. */
export async function rdfOffThread(trajectory: number, q: RdfQuery, fileName: string): Promise<RdfOutcome> {
  const id = ++nextId;
  const r = await send({ kind: 'rdf', id, trajectory, ...q }, { fileName, failed: (error) => ({ kind: 'rdf', id, outcome: { ok: false, error } }) });
  return (r as Extract<ParseReply, { kind: 'rdf' }>).outcome;
}

export type { RdfResult };
