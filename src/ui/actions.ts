// User actions that read files or URLs: structures (picker, drop, built-ins) and models. A file that
// cannot be read leaves the current system or model untouched and says what is wrong with it.

import { readStructure } from '../io/read';
import type { Structure } from '../io/structure';
import { setSystem } from './engine/client';
import { notify, useWorkbench } from './store';
import { loadModelFiles } from './model/modelActions';
import { supercell } from './system/supercell';
import type { BuiltinSystem } from './system/builtins';

const STRUCTURE_EXT = /\.(xyz|extxyz|pdb|ent)$/i;
const MODEL_EXT = /\.(json|safetensors|md)$/i;

/** Parse `text` as a structure; on failure show the error and keep the current system. */
export function loadStructureText(text: string, fileName: string, displayName = fileName): boolean {
  let st: Structure;
  try {
    st = readStructure(text, fileName);
    if (st.numbers.length === 0) throw new Error(`${fileName}: the file has no atoms`);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const kept = useWorkbench.getState().systemName;
    useWorkbench.setState({ systemError: `${msg}${kept ? ` — kept the current system (${kept})` : ''}` });
    notify('error', `Could not read ${fileName}: ${msg}`);
    return false;
  }
  setSystem(st, displayName.replace(/\.[^.]+$/, ''));
  return true;
}

export async function loadStructureFile(file: File): Promise<boolean> {
  return loadStructureText(await file.text(), file.name);
}

/** Dropped or picked files: structures and model files are told apart by extension. */
export async function handleFiles(files: File[]): Promise<void> {
  const structures = files.filter((f) => STRUCTURE_EXT.test(f.name));
  const model = files.filter((f) => MODEL_EXT.test(f.name));
  const other = files.filter((f) => !STRUCTURE_EXT.test(f.name) && !MODEL_EXT.test(f.name));
  if (model.length) await loadModelFiles(model);
  if (structures.length) await loadStructureFile(structures[0]);
  if (other.length) {
    const msg = `Not a structure or model file: ${other.map((f) => f.name).join(', ')} (expected .xyz, .extxyz, .pdb, or model.json + .safetensors)`;
    useWorkbench.setState({ systemError: msg });
    notify('error', msg);
  }
}

/** Load a built-in system (public/systems/), tiled into a supercell when it asks for one. */
export async function loadBuiltin(b: BuiltinSystem): Promise<boolean> {
  const url = `systems/${b.file}`;
  const res = await fetch(url).catch((e: Error) => e);
  const text = res instanceof Response && res.ok ? await res.text() : null;
  if (text === null || text.trimStart().startsWith('<!')) {
    const why = res instanceof Error ? res.message : text === null ? `HTTP ${(res as Response).status}` : 'not found';
    const msg = `Could not fetch the built-in system ${url}: ${why}`;
    useWorkbench.setState({ systemError: msg });
    notify('error', msg);
    return false;
  }
  try {
    let st = readStructure(text, b.file);
    if (b.repeat) st = supercell(st, ...b.repeat);
    setSystem(st, b.name);
    return true;
  } catch (e) {
    const msg = `${b.file}: ${(e as Error).message}`;
    useWorkbench.setState({ systemError: msg });
    notify('error', msg);
    return false;
  }
}
