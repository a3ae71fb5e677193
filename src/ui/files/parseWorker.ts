/// <reference lib="webworker" />
// The structure parser worker: reads and parses dropped or opened files off the page's main thread (the MD worker
// stays free to run). A trajectory stays open here, as its frame index, so the page asks for one frame at a time.

import { RdfAccumulator } from '../geometry/rdf';
import { blobSource } from '../trajectory/byteSource';
import { frameRange } from '../trajectory/frameRead';
import { openTrajectory, type FrameStore } from '../trajectory/open';
import { problemOf } from './problem';
import { parseStructureBlob } from './parseStructure';
import type { ParseReply, ParseRequestMessage } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

let open: { id: number; fileName: string; store: FrameStore } | null = null;

function reply(msg: ParseReply, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

async function handle(req: ParseRequestMessage): Promise<void> {
  switch (req.kind) {
    case 'parse': {
      const outcome = await parseStructureBlob(req.blob, req.fileName, req.limit);
      reply({ kind: 'parsed', id: req.id, outcome }, outcome.ok ? [outcome.structure.numbers.buffer, outcome.structure.positions.buffer] : []);
      return;
    }
    case 'open-trajectory': {
      open = null;
      let last = 0;
      try {
        const t = await openTrajectory(blobSource(req.blob), req.fileName, req.limit, (fraction, frames) => {
          // A few dozen progress messages per file are enough for a progress bar.
          if (fraction - last < 0.02 && fraction < 1) return;
          last = fraction;
          reply({ kind: 'progress', id: req.id, fraction, frames });
        });
        open = { id: req.id, fileName: req.fileName, store: t.store };
        reply({ kind: 'trajectory', id: req.id, outcome: { ok: true, summary: t.summary } });
      } catch (e) {
        const { error, first } = problemOf(e, req.fileName);
        reply({ kind: 'trajectory', id: req.id, outcome: { ok: false, error, first } });
      }
      return;
    }
    case 'frame': {
      const t = open;
      if (!t || t.id !== req.trajectory) {
        reply({ kind: 'frame', id: req.id, outcome: { ok: false, error: { fileName: '', line: null, problem: 'the trajectory is no longer open (open the file again)' } } });
        return;
      }
      try {
        let structure = null as Parameters<Parameters<FrameStore['visit']>[1]>[1] | null;
        await t.store.visit([req.frame], (_, s) => void (structure = s));
        reply({ kind: 'frame', id: req.id, outcome: { ok: true, structure: structure! } });
      } catch (e) {
        reply({ kind: 'frame', id: req.id, outcome: { ok: false, error: problemOf(e, t.fileName).error } });
      }
      return;
    }
    case 'rdf': {
      const t = open;
      if (!t || t.id !== req.trajectory) {
        reply({ kind: 'rdf', id: req.id, outcome: { ok: false, error: { fileName: '', line: null, problem: 'the trajectory is no longer open (open the file again)' } } });
        return;
      }
      try {
        let acc: RdfAccumulator | null = null;
        await t.store.visit(frameRange(req.from, req.to, req.stride), (_, s) => {
          acc ??= new RdfAccumulator(s.numbers, s.pbc, req.rMax, req.bins, req.zA, req.zB);
          acc.add(s.positions, s.cell);
        });
        const a = acc as RdfAccumulator | null;
        reply({ kind: 'rdf', id: req.id, outcome: { ok: true, rdf: a ? a.result() : null, frames: a ? a.frames : 0 } });
      } catch (e) {
        reply({ kind: 'rdf', id: req.id, outcome: { ok: false, error: problemOf(e, t.fileName).error } });
      }
    }
  }
}

self.onmessage = (ev: MessageEvent<ParseRequestMessage>) => void handle(ev.data);
