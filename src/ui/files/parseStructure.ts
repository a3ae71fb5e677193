// Reading a structure file for the workbench, as one pure step the parser worker runs: size limit,
// format detection and reading (src/io), and the failure as data (file, line, problem) the page can show.
// The page never parses files itself, so a large or hostile file cannot freeze the UI.

import { StructureParseError } from '../../io/errors';
import { readStructure } from '../../io/read';
import type { Structure } from '../../io/structure';

/**
 * Largest structure file the workbench reads: 256 MiB. V8 cannot hold a string over 2^29 − 24 characters
 * (~512 MiB), and reading needs the text plus its lines at once; 256 MiB of XYZ is ~5 million atoms, far more
 * than an interactive run can step (the default model does ~3,000 atoms at a few steps per second).
 */
export const MAX_STRUCTURE_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Largest file opened as a trajectory: 2 GiB. Its frames are found by byte offset and read a chunk at a time
 * (src/ui/trajectory), so the text is never held whole; what must fit is one frame, below MAX_STRUCTURE_FILE_BYTES,
 * and ~100 bytes of index and observables per frame. Files that cannot be indexed are read whole, up to the limit above.
 */
export const MAX_TRAJECTORY_FILE_BYTES = 2 * 1024 * 1024 * 1024;

/** Why a file could not be read: the reader's file, 1-based line (null: not tied to one line) and problem. */
export interface FileProblem {
  fileName: string;
  line: number | null;
  problem: string;
}

export type ParseOutcome = { ok: true; structure: Structure } | { ok: false; error: FileProblem };

export function describeProblem(p: FileProblem): string {
  return p.line === null ? `${p.fileName}: ${p.problem}` : `${p.fileName} line ${p.line}: ${p.problem}`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 3 : 1)} MiB`;
}

/** The size-limit problem for a file of `bytes`, or null when it is within the limit. */
export function sizeProblem(fileName: string, bytes: number, limit = MAX_STRUCTURE_FILE_BYTES): FileProblem | null {
  if (bytes <= limit) return null;
  return {
    fileName,
    line: null,
    problem: `the file is ${mib(bytes)}; the workbench reads structure files up to ${mib(limit)} (more than an interactive run can simulate); cut out the frame you need first`,
  };
}

/** The first frame of `text`, or the problem with it. Anything but a reader's typed error is reported as a reader fault. */
export function parseStructureText(text: string, fileName: string): ParseOutcome {
  try {
    const structure = readStructure(text, fileName);
    if (structure.numbers.length === 0) return { ok: false, error: { fileName, line: null, problem: 'the file has no atoms' } };
    return { ok: true, structure };
  } catch (e) {
    if (e instanceof StructureParseError) return { ok: false, error: { fileName: e.fileName, line: e.line, problem: e.problem } };
    // A reader bug must still leave the workbench as it was; say what it was so it can be reported.
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, error: { fileName, line: null, problem: `the reader failed unexpectedly (${what})` } };
  }
}

/** Size check, then the text of `blob` read and parsed (what the parser worker does per file). */
export async function parseStructureBlob(blob: Blob, fileName: string, limit = MAX_STRUCTURE_FILE_BYTES): Promise<ParseOutcome> {
  const tooBig = sizeProblem(fileName, blob.size, limit);
  if (tooBig) return { ok: false, error: tooBig };
  let text: string;
  try {
    text = await blob.text();
  } catch (e) {
    return { ok: false, error: { fileName, line: null, problem: `the file could not be read (${e instanceof Error ? e.message : String(e)})` } };
  }
  return parseStructureText(text, fileName);
}
