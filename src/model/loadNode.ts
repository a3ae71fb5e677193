// Node loader: a model from a directory holding model.json, or from the path of a model.json;
// the weights file is read from the config's directory. Used by the CLIs, benchmarks and tests.

import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { LoadedModel } from './config';
import { ModelLoadError } from './errors';
import { assembleModel } from './load';
import { parseModelConfig } from './modelJson';

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
  const configText = await readFile(configPath, 'utf8');
  const config = parseModelConfig(configText, configPath);
  const weightsPath = resolve(dirname(configPath), config.weights_file);
  if ((await kindOf(weightsPath)) !== 'file') {
    throw new ModelLoadError([
      `${configPath}: weights_file "${config.weights_file}" not found (looked for ${weightsPath})`,
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
