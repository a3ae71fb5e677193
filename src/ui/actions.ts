// User actions that read files or URLs: structures (picker, drop, built-ins) and models. A file that
// cannot be read leaves the current system or model untouched and says what is wrong with it.

import { describeProblem, type FileProblem } from './files/parseStructure';
import { parseStructureOffThread } from './files/parseClient';
import { notify, useWorkbench } from './store';
import { loadModelFiles } from './model/modelActions';
import { fitModelTo } from './model/autoModel';
import { loadSystem } from './system/admit';
import { supercell } from './system/supercell';
import type { BuiltinSystem } from './system/builtins';
import { noteSystemOrigin } from './session/origin';
import { openStructureFile } from './trajectory/actions';

const STRUCTURE_EXT = /\.(xyz|extxyz|pdb|ent)$/i;
const MODEL_EXT = /\.(json|safetensors|md)$/i;

/** Show why a file was not loaded; the current system, its run and its trajectory are left as they are. */
function refuseFile(p: FileProblem): false {
  const msg = describeProblem(p);
  const kept = useWorkbench.getState().systemName;
  useWorkbench.setState({ systemError: `${msg}${kept ? ` — kept the current system (${kept})` : ''}` });
  notify('error', `Could not read ${p.fileName}: ${msg}`);
  return false;
}

/**
 * Read a structure file in the parser worker and make it the current system, or open it as a trajectory when it has
 * several frames (src/ui/trajectory); on failure keep the current one.
 */
export async function loadStructureFile(file: Blob, fileName: string, displayName = fileName): Promise<boolean> {
  const ok = await openStructureFile(file, fileName, refuseFile, displayName.replace(/\.[^.]+$/, ''));
  if (ok) noteSystemOrigin({ kind: 'file', name: fileName, repeat: [1, 1, 1] });
  return ok;
}

/** Dropped or picked files: structures and model files are told apart by extension. */
export async function handleFiles(files: File[]): Promise<void> {
  const structures = files.filter((f) => STRUCTURE_EXT.test(f.name));
  const model = files.filter((f) => MODEL_EXT.test(f.name));
  const other = files.filter((f) => !STRUCTURE_EXT.test(f.name) && !MODEL_EXT.test(f.name));
  if (model.length) await loadModelFiles(model);
  if (structures.length) await loadStructureFile(structures[0], structures[0].name);
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
  const outcome = await parseStructureOffThread(new Blob([text]), b.file);
  if (!outcome.ok) return refuseFile(outcome.error);
  let st = outcome.structure;
  try {
    // 1×1×1 is the structure itself: a link to a molecule (no cell) carries that tiling and must still open.
    if (b.repeat && b.repeat.some((r) => r !== 1)) st = supercell(st, ...b.repeat);
  } catch (e) {
    return refuseFile({ fileName: b.file, line: null, problem: (e as Error).message });
  }
  // A molecule the loaded model cannot run switches to the listed model that can (and water back to the default).
  await fitModelTo(st, b.name);
  const ok = loadSystem(st, b.name);
  if (ok) noteSystemOrigin({ kind: 'builtin', file: b.file, repeat: b.repeat ?? [1, 1, 1] });
  return ok;
}
