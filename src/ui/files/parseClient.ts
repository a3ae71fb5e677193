// Page side of the structure parser worker. Files over the size limit are refused here without being
// read; a worker that dies (out of memory on a hostile file) fails only that request and is replaced.

import { MAX_STRUCTURE_FILE_BYTES, sizeProblem, type ParseOutcome } from './parseStructure';
import type { ParseReply, ParseRequest } from './protocol';

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { fileName: string; resolve: (o: ParseOutcome) => void }>();

function failAll(problem: string): void {
  for (const [, p] of pending) p.resolve({ ok: false, error: { fileName: p.fileName, line: null, problem } });
  pending.clear();
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./parseWorker.ts', import.meta.url), { type: 'module', name: 'scaip-parse' });
  w.onmessage = (ev: MessageEvent<ParseReply>) => {
    const p = pending.get(ev.data.id);
    pending.delete(ev.data.id);
    p?.resolve(ev.data.outcome);
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

/** Parse the first frame of `blob` in the parser worker. Never rejects: failures come back as the outcome. */
export function parseStructureOffThread(blob: Blob, fileName: string, limit = MAX_STRUCTURE_FILE_BYTES): Promise<ParseOutcome> {
  const tooBig = sizeProblem(fileName, blob.size, limit);
  if (tooBig) return Promise.resolve({ ok: false, error: tooBig });
  return new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, { fileName, resolve });
    const req: ParseRequest = { id, fileName, blob, limit };
    getWorker().postMessage(req);
  });
}
