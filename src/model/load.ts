// Model loaders that run in the browser (and in Node ≥ 20, which has fetch and File):
// from a URL (fetch) and from File objects the user picked or dropped. All of them end in
// assembleModel, which checks the config and every tensor and reports all problems at once.
// The Node file-system loader is in ./loadNode.ts so this module never imports `fs`.

import type { LoadedModel } from './config';
import { ModelLoadError } from './errors';
import { configWarnings, parseModelConfig } from './modelJson';
import { parseSafetensors } from './safetensors';
import { checkWeights } from './weights';

/**
 * Builds a LoadedModel from the text of model.json and the bytes of its weights file.
 * Throws ModelLoadError listing every problem (config first; weights are checked only against a valid config).
 */
export function assembleModel(
  configText: string,
  weightsBytes: Uint8Array | ArrayBuffer,
  names: { config?: string; weights?: string } = {},
): LoadedModel {
  const configName = names.config ?? 'model.json';
  const config = parseModelConfig(configText, configName);
  const weightsName = names.weights ?? config.weights_file;
  const file = parseSafetensors(weightsBytes, weightsName);
  const { tensors, problems } = checkWeights(config, file, weightsName);
  if (problems.length > 0) throw new ModelLoadError(problems);
  return { config, tensors, warnings: configWarnings(config, configName) };
}

export interface FetchLoadOptions {
  /** Called as the weights download progresses (bytes so far, total bytes or null if unknown). */
  onProgress?: (loaded: number, total: number | null) => void;
  signal?: AbortSignal;
}

function resolveUrl(url: string): URL {
  const base = typeof location !== 'undefined' ? location.href : undefined;
  try {
    return new URL(url, base);
  } catch {
    throw new ModelLoadError([`${url}: not a valid URL`]);
  }
}

async function fetchOk(url: URL, what: string, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    throw new ModelLoadError([`${url.href}: could not download the ${what} (${(e as Error).message})`]);
  }
  if (!response.ok) {
    throw new ModelLoadError([`${url.href}: could not download the ${what} (HTTP ${response.status} ${response.statusText})`]);
  }
  return response;
}

async function readBody(response: Response, onProgress?: FetchLoadOptions['onProgress']): Promise<Uint8Array> {
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * Loads a model over HTTP. `url` points at model.json, or at the model's directory (ending in "/"),
 * in which case model.json is fetched from it. The weights file is resolved relative to model.json.
 */
export async function loadModelFromUrl(url: string, options: FetchLoadOptions = {}): Promise<LoadedModel> {
  let configUrl = resolveUrl(url);
  if (configUrl.pathname.endsWith('/')) configUrl = new URL('model.json', configUrl);
  const configText = await (await fetchOk(configUrl, 'model config', options.signal)).text();
  const configName = configUrl.pathname.split('/').pop() || 'model.json';
  // Validate the config before downloading possibly hundreds of MB of weights.
  const config = parseModelConfig(configText, configName);
  const weightsUrl = new URL(config.weights_file, configUrl);
  const response = await fetchOk(weightsUrl, 'weights', options.signal);
  const bytes = await readBody(response, options.onProgress);
  return assembleModel(configText, bytes, { config: configName, weights: config.weights_file });
}

/** The minimal part of the DOM File interface the loader needs (Node ≥ 20 has File too). */
export interface NamedBlob {
  name: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Loads a model from files the user picked (an <input type=file multiple> FileList or a drop):
 * one .json config and its weights file (matched by the config's weights_file name, or the only
 * .safetensors file given).
 */
export async function loadModelFromFiles(files: Iterable<NamedBlob> | ArrayLike<NamedBlob>): Promise<LoadedModel> {
  const list = Array.from(files as ArrayLike<NamedBlob>);
  const jsons = list.filter((f) => f.name.toLowerCase().endsWith('.json'));
  const weights = list.filter((f) => f.name.toLowerCase().endsWith('.safetensors'));
  const given = list.map((f) => f.name).join(', ') || 'none';
  if (jsons.length === 0) {
    throw new ModelLoadError([`no model config among the files given (${given}): add model.json`]);
  }
  const configFile = jsons.length === 1 ? jsons[0] : jsons.find((f) => f.name === 'model.json');
  if (!configFile) {
    throw new ModelLoadError([`several .json files given (${jsons.map((f) => f.name).join(', ')}): give one model.json`]);
  }
  const configText = await configFile.text();
  const config = parseModelConfig(configText, configFile.name);
  const baseName = config.weights_file.split('/').pop() as string;
  const weightsFile = weights.find((f) => f.name === baseName) ?? (weights.length === 1 ? weights[0] : undefined);
  if (!weightsFile) {
    throw new ModelLoadError([
      weights.length === 0
        ? `${configFile.name} needs the weights file "${config.weights_file}", which was not among the files given (${given})`
        : `${configFile.name} needs the weights file "${config.weights_file}"; several .safetensors files were given ` +
          `(${weights.map((f) => f.name).join(', ')}) and none has that name`,
    ]);
  }
  const bytes = new Uint8Array(await weightsFile.arrayBuffer());
  return assembleModel(configText, bytes, { config: configFile.name, weights: weightsFile.name });
}
