// Loading models into the workbench: the bundled default (named by public/models/index.json), or
// model.json + .safetensors picked/dropped by the user. A model that fails to load leaves the
// current one in place and lists every problem the loader found.

import type { LoadedModel } from '../../model/config';
import { loadModelFromFiles, loadModelFromUrl } from '../../model/load';
import { sendModel, sendParams } from '../engine/client';
import { notify, setParams, useWorkbench } from '../store';
import { summarizeModel } from './summary';

/** public/models/index.json: `{ "default": "dir-or-model.json", "models": [{ "name", "path", "description"? }] }`. */
export interface ModelIndex {
  default?: string;
  models?: { name: string; path: string; description?: string }[];
}

export const MODEL_INDEX_URL = 'models/index.json';

function accept(model: LoadedModel, source: string): void {
  const summary = summarizeModel(model, source);
  sendModel(model);
  useWorkbench.setState({ model: summary, modelPhase: 'ready', modelProgress: 1, modelMessage: '' });
  if (useWorkbench.getState().params.provider !== 'allscaip') {
    setParams({ provider: 'allscaip' });
    sendParams();
  }
  notify('info', `Model ${summary.name} ${summary.version} loaded from ${source}.`);
}

function fail(e: unknown, source: string): void {
  const msg = e instanceof Error ? e.message : String(e);
  const hadModel = useWorkbench.getState().model !== null;
  useWorkbench.setState({ modelPhase: hadModel ? 'ready' : 'error', modelMessage: `${source}: ${msg}${hadModel ? ' — kept the current model' : ''}` });
  notify('error', `Could not load the model from ${source}: ${msg}`);
}

/** Resolves the default model's URL from the index, or null (with the reason set in the store). */
export async function defaultModelUrl(): Promise<string | null> {
  let index: ModelIndex;
  try {
    const res = await fetch(MODEL_INDEX_URL);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    // Vite's dev server answers unknown paths with index.html: that is "no index", not a parse error.
    if (text.trimStart().startsWith('<')) throw new Error('not found');
    index = JSON.parse(text) as ModelIndex;
  } catch (e) {
    useWorkbench.setState({
      modelPhase: 'missing',
      modelMessage: `No bundled default model (public/${MODEL_INDEX_URL}: ${(e as Error).message}). Drop a model.json + .safetensors, or run with Lennard-Jones.`,
    });
    return null;
  }
  const path = index.default ?? index.models?.[0]?.path;
  if (!path) {
    useWorkbench.setState({ modelPhase: 'missing', modelMessage: `public/${MODEL_INDEX_URL} names no default model.` });
    return null;
  }
  const entry = index.models?.find((m) => m.name === path || m.path === path);
  return new URL(entry?.path ?? path, new URL(MODEL_INDEX_URL, location.href)).href;
}

export async function loadDefaultModel(): Promise<boolean> {
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

export async function loadModelUrl(url: string): Promise<boolean> {
  useWorkbench.setState({ modelPhase: 'loading', modelProgress: 0, modelMessage: `downloading ${url}` });
  try {
    const model = await loadModelFromUrl(url, {
      onProgress: (loaded, total) =>
        useWorkbench.setState({ modelProgress: total ? loaded / total : 0, modelMessage: `downloading weights: ${(loaded / 1e6).toFixed(1)} MB` }),
    });
    accept(model, url);
    return true;
  } catch (e) {
    fail(e, url);
    return false;
  }
}

export async function loadModelFiles(files: File[]): Promise<boolean> {
  const source = files.map((f) => f.name).join(' + ');
  const before = useWorkbench.getState().modelPhase;
  useWorkbench.setState({ modelPhase: 'loading', modelProgress: 0.5, modelMessage: `reading ${source}` });
  try {
    accept(await loadModelFromFiles(files), source);
    return true;
  } catch (e) {
    if (before === 'missing') useWorkbench.setState({ modelPhase: 'missing' });
    fail(e, source);
    return false;
  }
}
