// One entry point for structure files: picks the format from the file name, or from the content when
// the extension says nothing, and returns every frame (readStructures) or the first one (readStructure).

import { StructureParseError } from './errors';
import { readPdb } from './pdb';
import type { Structure } from './structure';
import { readXyz } from './xyz';

export type StructureFormat = 'xyz' | 'pdb';

const EXTENSIONS: Record<string, StructureFormat> = {
  xyz: 'xyz',
  extxyz: 'xyz',
  pdb: 'pdb',
  ent: 'pdb',
};

/** Format of a structure file from its extension, else from its first meaningful line; null if unknown. */
export function detectFormat(text: string, fileName: string): StructureFormat | null {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  if (ext in EXTENSIONS) return EXTENSIONS[ext];
  // The first non-blank line, found without splitting the whole file.
  const match = /[^\s][^\r\n]*/.exec(text);
  if (match === null) return null;
  const lineStart = Math.max(text.lastIndexOf('\n', match.index), text.lastIndexOf('\r', match.index)) + 1;
  const first = text.slice(lineStart, match.index + match[0].length);
  if (/^\s*\d+\s*(\s.*)?$/.test(first)) return 'xyz';
  if (/^(HEADER|TITLE|REMARK|CRYST1|MODEL|ATOM  |HETATM|COMPND|AUTHOR|EXPDTA)/.test(first)) return 'pdb';
  return null;
}

/** Every frame in a structure file. Throws StructureParseError for unknown formats and malformed files. */
export function readStructures(text: string, fileName: string): Structure[] {
  const format = detectFormat(text, fileName);
  if (format === 'xyz') return readXyz(text, fileName);
  if (format === 'pdb') return readPdb(text, fileName);
  if (text.trim().length === 0) throw new StructureParseError(fileName, null, 'the file is empty (no atoms to read)');
  throw new StructureParseError(
    fileName,
    null,
    'cannot tell the file format: use an .xyz, .extxyz or .pdb file (or XYZ/PDB content)',
  );
}

/** The first frame of a structure file. */
export function readStructure(text: string, fileName: string): Structure {
  return readStructures(text, fileName)[0];
}
