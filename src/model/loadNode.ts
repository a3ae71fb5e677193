// Node loader: a model from a directory holding model.json, or from the path of a model.json;
// the weights file is read from the config's directory. Used by the CLIs, benchmarks and tests.

import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { LoadedModel } from './config';
import { ModelLoadError } from './errors';
import { assembleModel } from './load';
import { MODEL_JSON_LIMITS, parseModelConfig } from './modelJson';

async function kindOf(path: string): Promise<'file' | 'directory' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'directory' : 'file';
  } catch {
    return null;
  }
}

/** Loads a model from `<dir>` (reads `<dir>/model.json`) or from a model.json path. */
export async function loadModelFromPath(path: string): Promise<LoadedModel> {
  const kind = await kindOf(path);
  if (kind === null) throw new ModelLoadError([`${path}: no such file or directory`]);
  const configPath = kind === 'directory' ? join(path, 'model.json') : path;
  if (kind === 'directory' && (await kindOf(configPath)) !== 'file') {
    throw new ModelLoadError([`${path}: the directory has no model.json`]);
  }
  const configStat = await stat(configPath);
  if (!configStat.isFile()) throw new ModelLoadError([`${configPath}: not a regular file`]);
  if (configStat.size > MODEL_JSON_LIMITS.maxBytes) {
    throw new ModelLoadError([
      `${configPath}: ${configStat.size} bytes; a model config is at most ${MODEL_JSON_LIMITS.maxBytes} bytes (the weights go in the .safetensors file)`,
    ]);
  }
  const configText = await readFile(configPath, 'utf8');
  const config = parseModelConfig(configText, configPath);
  // parseModelConfig has refused names with separators or "..": the file sits next to model.json.
  const weightsPath = resolve(dirname(configPath), config.weights_file);
  const weightsKind = await kindOf(weightsPath);
  if (weightsKind !== 'file') {
    throw new ModelLoadError([
      weightsKind === 'directory'
        ? `${configPath}: weights_file "${config.weights_file}" is a directory, not a weights file (${weightsPath})`
        : `${configPath}: weights_file "${config.weights_file}" not found (looked for ${weightsPath})`,
    ]);
  }
  // A symlink may point elsewhere in the model's directory, never out of it (a model file must not make
  // the loader read files the user did not hand it).
  const [realWeights, realDir] = await Promise.all([realpath(weightsPath), realpath(dirname(configPath))]);
  if (dirname(realWeights) !== realDir) {
    throw new ModelLoadError([
      `${configPath}: weights_file "${config.weights_file}" is a link to ${realWeights}, outside the model's directory; ` +
        'copy the weights next to model.json',
    ]);
  }
  const bytes = await readFile(weightsPath);
  // Name files relative to what the user typed, so messages stay short and recognisable.
  const weightsName = join(dirname(configPath), config.weights_file);
  return assembleModel(configText, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    config: configPath,
    weights: weightsName,
  });
}
