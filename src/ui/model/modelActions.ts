// Loading models into the workbench: the bundled default (named by public/models/index.json), or
// model.json + .safetensors picked/dropped by the user. A model that fails to load leaves the
// current one in place and lists every problem the loader found.

import type { LoadedModel } from '../../model/config';
import { loadModelFromFiles, loadModelFromUrl } from '../../model/load';
import { sendModel, sendParams } from '../engine/client';
import { recheckCurrentSystem } from '../system/admit';
import { notify, setParams, useWorkbench } from '../store';
import { summarizeModel } from './summary';
import { noteModelOrigin } from '../session/origin';

/**
 * public/models/index.json as training/export.py writes it:
 * `{ "default": dir, "models": [{ "dir", "name", "description" }] }`; each dir holds model.json,
 * weights.safetensors and optionally card.md and metrics.json.
 */
export interface ModelIndexEntry {
  dir: string;
  name: string;
  description?: string;
}
export interface ModelIndex {
  default: string | null;
  models: ModelIndexEntry[];
}

export const MODEL_INDEX_URL = 'models/index.json';

/** The shipped models, or null (with the reason in the store) when there is no usable index. */
export async function fetchModelIndex(): Promise<ModelIndex | null> {
  try {
    const res = await fetch(MODEL_INDEX_URL);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    // Vite's dev server answers unknown paths with index.html: that is "no index", not a parse error.
    if (text.trimStart().startsWith('<')) throw new Error('not found');
    const raw = JSON.parse(text) as Partial<ModelIndex>;
    const models = Array.isArray(raw.models) ? raw.models.filter((m) => m && typeof m.dir === 'string') : [];
    const index = { default: typeof raw.default === 'string' ? raw.default : null, models };
    useWorkbench.setState({ shippedModels: models });
    return index;
  } catch (e) {
    useWorkbench.setState({
      modelPhase: 'missing',
      modelMessage: `No bundled default model (public/${MODEL_INDEX_URL}: ${(e as Error).message}). Drop a model.json + .safetensors, or run with Lennard-Jones.`,
    });
    return null;
  }
}

export function modelDirUrl(dir: string): string {
  return new URL(`${dir.replace(/\/+$/, '')}/`, new URL(MODEL_INDEX_URL, location.href)).href;
}

/**
 * How a model load came about: `auto` is the workbench's reason when it picked the model for a structure being
 * opened (src/ui/model/autoModel.ts; null: the user's or a link's choice); `rerun: false` when that structure
 * follows at once, so the one on screen is not rebuilt with the new model first.
 */
export interface ModelLoadOptions {
  auto?: string | null;
  rerun?: boolean;
}

/** The model load in progress (start-up default, link, picker, automatic switch): what an opened structure waits for. */
let latestLoad: Promise<unknown> = Promise.resolve();

export function trackModelLoad<T>(p: Promise<T>): Promise<T> {
  latestLoad = p;
  return p;
}

/** Resolves once no model load is in progress (a load started while waiting is waited for too). */
export async function modelLoadSettled(): Promise<void> {
  for (;;) {
    const p = latestLoad;
    await p.catch(() => undefined);
    if (p === latestLoad) return;
  }
}

function accept(model: LoadedModel, source: string, extras: { card: string | null; metrics: Record<string, unknown> | null } = { card: null, metrics: null },
  opts: ModelLoadOptions = {}): void {
  const summary = summarizeModel(model, source, extras);
  sendModel(model);
  useWorkbench.setState({ model: summary, modelConfig: model.config, modelPhase: 'ready', modelProgress: 1, modelMessage: '', modelAuto: opts.auto ?? null });
  setParams({ provider: 'allscaip' });
  // A new model means a new run of the current system (one engine build, with the new model and settings),
  // if the model can run it at all; not when the structure it was picked for is about to replace it.
  if (opts.rerun ?? true) recheckCurrentSystem(true);
  notify('info', `Model ${summary.name} ${summary.version} loaded from ${source}${opts.auto ? ` (chosen automatically: ${opts.auto})` : ''}.`);
  for (const w of summary.warnings) notify('warning', w);
}

function fail(e: unknown, source: string): void {
  const msg = e instanceof Error ? e.message : String(e);
  const hadModel = useWorkbench.getState().model !== null;
  useWorkbench.setState({ modelPhase: hadModel ? 'ready' : 'error', modelMessage: `${source}: ${msg}${hadModel ? ' — kept the current model' : ''}` });
  notify('error', `Could not load the model from ${source}: ${msg}`);
}

/** Resolves the default model's directory URL from the index, or null (with the reason set in the store). */
export async function defaultModelUrl(): Promise<string | null> {
  const index = await fetchModelIndex();
  if (!index) return null;
  const dir = index.default ?? index.models[0]?.dir;
  if (!dir) {
    useWorkbench.setState({ modelPhase: 'missing', modelMessage: `public/${MODEL_INDEX_URL} lists no model yet.` });
    return null;
  }
  return modelDirUrl(dir);
}

/** card.md and metrics.json beside a shipped model, when present (both optional). */
async function fetchExtras(dirUrl: string): Promise<{ card: string | null; metrics: Record<string, unknown> | null }> {
  const get = async (name: string) => {
    try {
      const res = await fetch(new URL(name, dirUrl));
      const text = res.ok ? await res.text() : null;
      return text && !text.trimStart().startsWith('<!') ? text : null;
    } catch {
      return null;
    }
  };
  const [card, metrics] = await Promise.all([get('card.md'), get('metrics.json')]);
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = metrics ? (JSON.parse(metrics) as Record<string, unknown>) : null;
  } catch {
    parsed = null;
  }
  return { card, metrics: parsed };
}

export function loadDefaultModel(): Promise<boolean> {
  return trackModelLoad(loadDefault());
}

async function loadDefault(): Promise<boolean> {
  useWorkbench.setState({ modelPhase: 'loading', modelProgress: 0, modelMessage: 'looking for the default model' });
  const url = await defaultModelUrl();
  if (!url) {
    // Still let the user run something: the classical baseline needs no weights.
    if (!useWorkbench.getState().model && useWorkbench.getState().params.provider === 'allscaip') {
      setParams({ provider: 'lj' });
      sendParams();
      notify('warning', 'No default model is bundled: forces come from Lennard-Jones until you load a model.');
    }
    return false;
  }
  return loadModelUrl(url);
}

export function loadModelUrl(url: string, opts: ModelLoadOptions = {}): Promise<boolean> {
  return trackModelLoad(loadUrl(url, opts));
}

async function loadUrl(url: string, opts: ModelLoadOptions): Promise<boolean> {
  useWorkbench.setState({ modelPhase: 'loading', modelProgress: 0, modelMessage: `downloading ${url}` });
  try {
    const model = await loadModelFromUrl(url, {
      onProgress: (loaded, total) =>
        useWorkbench.setState({ modelProgress: total ? loaded / total : 0, modelMessage: `downloading weights: ${(loaded / 1e6).toFixed(1)} MB` }),
    });
    const dirUrl = url.endsWith('/') ? url : new URL('.', url).href;
    accept(model, url, await fetchExtras(dirUrl), opts);
    const shipped = useWorkbench.getState().shippedModels.find((m) => modelDirUrl(m.dir) === dirUrl);
    noteModelOrigin(shipped ? { kind: 'shipped', dir: shipped.dir } : null);
    return true;
  } catch (e) {
    fail(e, url);
    return false;
  }
}

export function loadModelFiles(files: File[]): Promise<boolean> {
  return trackModelLoad(loadFiles(files));
}

async function loadFiles(files: File[]): Promise<boolean> {
  const source = files.map((f) => f.name).join(' + ');
  const before = useWorkbench.getState().modelPhase;
  useWorkbench.setState({ modelPhase: 'loading', modelProgress: 0.5, modelMessage: `reading ${source}` });
  try {
    const model = await loadModelFromFiles(files);
    const card = files.find((f) => /\.md$/i.test(f.name));
    const metrics = files.find((f) => /metrics\.json$/i.test(f.name));
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = metrics ? (JSON.parse(await metrics.text()) as Record<string, unknown>) : null;
    } catch {
      parsed = null;
    }
    accept(model, source, { card: card ? await card.text() : null, metrics: parsed });
    noteModelOrigin({ kind: 'files', names: files.map((f) => f.name) });
    return true;
  } catch (e) {
    if (before === 'missing') useWorkbench.setState({ modelPhase: 'missing' });
    fail(e, source);
    return false;
  }
}
