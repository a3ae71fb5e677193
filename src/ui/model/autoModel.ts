// Before a structure is opened: switch to the listed model that can run it (src/ui/model/modelChoice.ts decides),
// after any model load in progress (at start-up the default may still be downloading when a linked molecule
// arrives). The switch is announced; the structure itself is then admitted as always (src/ui/system/admit.ts).

import type { Structure } from '../../io/structure';
import { notify, useWorkbench } from '../store';
import { useOrigin } from '../session/origin';
import { chooseModelFor, readCandidates, type ModelCandidate } from './modelChoice';
import { loadModelUrl, modelDirUrl, modelLoadSettled, MODEL_INDEX_URL } from './modelActions';

interface Shipped {
  defaultDir: string | null;
  candidates: ModelCandidate[];
}

let shipped: Promise<Shipped> | null = null;

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  const text = await res.text();
  // Vite answers unknown paths with index.html.
  if (!res.ok || text.trimStart().startsWith('<')) throw new Error(`${url}: not found`);
  return text;
}

/** The index and every listed model.json (a few kB each), read once per page. */
function shippedModels(): Promise<Shipped> {
  shipped ??= (async () => {
    const raw = JSON.parse(await fetchText(new URL(MODEL_INDEX_URL, location.href).href)) as { default?: unknown; models?: unknown };
    const models = Array.isArray(raw.models)
      ? (raw.models as { dir?: unknown; name?: unknown }[]).filter((m) => m && typeof m.dir === 'string').map((m) => ({ dir: m.dir as string, name: typeof m.name === 'string' ? m.name : (m.dir as string) }))
      : [];
    const index = { default: typeof raw.default === 'string' ? raw.default : null, models };
    return { defaultDir: index.default, candidates: await readCandidates(index, (dir) => fetchText(`${modelDirUrl(dir)}model.json`)) };
  })().catch((e: unknown) => {
    shipped = null; // try again next time (a transient fetch failure must not disable switching for good)
    throw e;
  });
  return shipped;
}

/**
 * Load the listed model that should run `st` (opened as `name`) when the loaded one cannot, or back to the default
 * when the workbench had picked the loaded one; nothing with Lennard-Jones forces or when no model is loaded.
 * Returns whether the model changed. Never throws: without the index the structure meets the current model's check.
 */
export async function fitModelTo(st: Structure, name: string): Promise<boolean> {
  await modelLoadSettled();
  const s = useWorkbench.getState();
  if (s.params.provider !== 'allscaip' || !s.modelConfig) return false;
  let list: Shipped;
  try {
    list = await shippedModels();
  } catch {
    return false;
  }
  const origin = useOrigin.getState().model;
  const choice = chooseModelFor(st, name, list.candidates, list.defaultDir,
    { dir: origin?.kind === 'shipped' ? origin.dir : null, config: s.modelConfig, auto: s.modelAuto !== null }, s.allowUntrainedElements);
  if (!choice) return false;
  notify('info', `Switching the model to ${choice.name}: ${choice.reason}.`);
  return loadModelUrl(modelDirUrl(choice.dir), { auto: choice.reason, rerun: false });
}
