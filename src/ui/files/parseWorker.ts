/// <reference lib="webworker" />
// The structure parser worker: reads and parses dropped or opened files off the page's main thread
// (the MD worker stays free to run), and answers with the structure or the problem with the file.

import { parseStructureBlob } from './parseStructure';
import type { ParseReply, ParseRequest } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<ParseRequest>) => {
  const { id, fileName, blob, limit } = ev.data;
  const outcome = await parseStructureBlob(blob, fileName, limit);
  const reply: ParseReply = { id, outcome };
  const transfer = outcome.ok ? [outcome.structure.numbers.buffer, outcome.structure.positions.buffer] : [];
  self.postMessage(reply, transfer);
};
