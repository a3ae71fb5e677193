// Reading a structure file from disk in Node (the command-line tools); the workbench parses dropped files in
// its parser worker (src/ui/files).
import { readFileSync } from 'node:fs';
import { StructureParseError } from './errors';
import { readStructures } from './read';
import type { Structure } from './structure';

/** Every frame of the file at `path`; a file that cannot be read is a StructureParseError like a malformed one. */
export function readStructureFile(path: string): Structure[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StructureParseError(path, null, code === 'ENOENT' ? 'no such file' : `cannot read the file (${(e as Error).message})`);
  }
  return readStructures(text, path);
}
