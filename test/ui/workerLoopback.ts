// The page and the real MD worker (src/ui/engine/worker.ts) in one process, for the engine tests in test/ui: the
// worker's global scope (globalThis.self) and the page's Worker class (globalThis.Worker) joined by an in-process
// message channel. Each message is delivered on a later macrotask, as between a page and its worker, so the worker's
// awaits and the page's handlers interleave as they do in the browser. Install it before importing the worker
// module (which sets self.onmessage) and the client (which constructs the Worker).
import type { FromWorker, ToWorker } from '../../src/ui/engine/protocol';

type Listener = ((ev: { data: unknown }) => void) | null;

/** Runs fn on a later macrotask. */
export const later = (fn: () => void) => setTimeout(fn, 0);

/** What a test records as messages cross the channel. */
export interface LoopbackHooks {
  /** A message the worker posts, when it posts it (before the page receives it). */
  toPage?: (msg: FromWorker) => void;
  /** A message the page posted, just before the worker receives it. */
  toWorker?: (msg: ToWorker) => void;
}

/** Puts the worker's scope on globalThis.self and the page's Worker on globalThis.Worker; returns what restores both. */
export function installWorkerLoopback(hooks: LoopbackHooks = {}): () => void {
  const g = globalThis as Record<string, unknown>;
  const saved = { self: g.self, Worker: g.Worker };
  let page: FakeWorker | null = null;
  /** The worker's global scope: what it posts goes to the page's Worker object. */
  const scope = {
    onmessage: null as Listener,
    postMessage: (msg: unknown) => {
      hooks.toPage?.(msg as FromWorker);
      later(() => page?.onmessage?.({ data: msg }));
    },
  };
  /** The page's Worker: what it posts goes to the worker's scope. */
  class FakeWorker {
    onmessage: Listener = null;
    onerror: unknown = null;
    constructor() { page = this; }
    postMessage(msg: unknown) {
      later(() => {
        hooks.toWorker?.(msg as ToWorker);
        scope.onmessage?.({ data: msg });
      });
    }
    terminate() {}
  }
  g.self = scope;
  g.Worker = FakeWorker;
  return () => { g.self = saved.self; g.Worker = saved.Worker; };
}
