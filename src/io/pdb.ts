// PDB reader: CRYST1 → periodic cell, ATOM/HETATM → atoms, MODEL/ENDMDL → frames.
// Columns follow the wwPDB 3.3 fixed-column layout (1-based, inclusive): atom name 13-16, altLoc 17,
// residue name 18-20, residue number 23-26, x 31-38, y 39-46, z 47-54, element 77-78.

import { cellFromParameters } from './cell';
import { atomicNumberOrNull } from './elements';
import { StructureParseError } from './errors';
import type { Structure } from './structure';

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

interface FrameBuilder {
  numbers: number[];
  positions: number[];
  names: string[];
  residueNames: string[];
  residueNumbers: number[];
}

function newFrame(): FrameBuilder {
  return { numbers: [], positions: [], names: [], residueNames: [], residueNumbers: [] };
}

/**
 * Element from the atom name when columns 77-78 are blank (older files).
 * PDB convention: a two-letter element starts in column 13 ("FE  ", "CL  "), a one-letter element in
 * column 14 (" CA " is a carbon, "CA  " calcium). Four-character hydrogen names ("HG21") start in column 13.
 */
function elementFromAtomName(name: string): number | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return null;
  if (name[0] !== ' ' && /[A-Za-z]/.test(name[0])) {
    if (trimmed.length === 4 && trimmed[0].toUpperCase() === 'H') return 1;
    const two = atomicNumberOrNull(name.slice(0, 2));
    if (two !== null && /[A-Za-z]/.test(name[1])) return two;
  }
  // Skip leading digits (" 1HB" style hydrogen names) and take the first letter.
  const letters = trimmed.replace(/^\d+/, '');
  return letters.length > 0 ? atomicNumberOrNull(letters[0]) : null;
}

/**
 * Reads a PDB file. Returns one Structure per MODEL (or one if there are none).
 * Charge 0 and spin multiplicity 1 (PDB does not record them). A CRYST1 record gives a periodic cell,
 * except the PDB placeholder for "no cell" (1 Å cube).
 */
export function readPdb(text: string, fileName = 'input.pdb'): Structure[] {
  const lines = text.split(/\r\n|\n|\r/);
  let cell: Float64Array | null = null;
  const frames: FrameBuilder[] = [];
  let current: FrameBuilder | null = null;
  let inModel = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    const fail = (problem: string): never => {
      throw new StructureParseError(fileName, lineNo, problem);
    };
    const record = line.slice(0, 6).trim().toUpperCase();
    if (record === 'CRYST1') {
      const tokens = line.slice(6).trim().split(/\s+/).slice(0, 6);
      const values = tokens.map((t) => (NUMBER_RE.test(t) ? Number(t) : Number.NaN));
      if (values.length < 6 || values.some((v) => !Number.isFinite(v))) {
        fail(`CRYST1 needs six numbers (a b c in Å, α β γ in degrees), got "${line.slice(6, 54).trim()}"`);
      }
      const [a, b, c, alpha, beta, gamma] = values;
      if (a <= 0 || b <= 0 || c <= 0) fail(`CRYST1 cell lengths must be positive, got ${a} ${b} ${c}`);
      const placeholder = a === 1 && b === 1 && c === 1 && alpha === 90 && beta === 90 && gamma === 90;
      if (!placeholder) {
        try {
          cell = cellFromParameters(a, b, c, alpha, beta, gamma);
        } catch (e) {
          fail(`CRYST1: ${(e as Error).message}`);
        }
      }
    } else if (record === 'MODEL') {
      current = newFrame();
      frames.push(current);
      inModel = true;
    } else if (record === 'ENDMDL') {
      if (!inModel) fail('ENDMDL without a matching MODEL');
      inModel = false;
      current = null;
    } else if (record === 'END') {
      break;
    } else if (record === 'ATOM' || record === 'HETATM') {
      if (!current) {
        if (frames.length > 0 && !inModel) fail(`${record} record after ENDMDL outside any MODEL`);
        current = newFrame();
        frames.push(current);
      }
      const altLoc = line[16] ?? ' ';
      // Keep the first alternate location only, as most readers do.
      if (altLoc !== ' ' && altLoc !== 'A' && altLoc !== '1') continue;
      if (line.trimEnd().length < 54) {
        fail(`${record} record is too short (${line.trimEnd().length} characters): x, y, z need columns 31-54`);
      }
      const coords: number[] = [];
      for (const [axis, from, to] of [
        ['x', 30, 38],
        ['y', 38, 46],
        ['z', 46, 54],
      ] as const) {
        const t = line.slice(from, to).trim();
        if (!NUMBER_RE.test(t)) fail(`${axis} coordinate "${t}" (columns ${from + 1}-${to}) is not a number`);
        coords.push(Number(t));
      }
      const name = line.slice(12, 16).padEnd(4);
      const elementText = line.slice(76, 78).trim();
      let z: number | null;
      if (elementText.length > 0) {
        z = atomicNumberOrNull(elementText);
        if (z === null) fail(`unknown element "${elementText}" (columns 77-78)`);
      } else {
        z = elementFromAtomName(name);
        if (z === null) {
          fail(`cannot tell the element of atom "${name.trim()}": columns 77-78 are empty and the atom name is not an element`);
        }
      }
      const resSeqText = line.slice(22, 26).trim();
      current.numbers.push(z as number);
      current.positions.push(...coords);
      current.names.push(name.trim());
      current.residueNames.push(line.slice(17, 20).trim());
      current.residueNumbers.push(/^[+-]?\d+$/.test(resSeqText) ? Number(resSeqText) : 0);
    }
    // Other records (HEADER, REMARK, TER, CONECT, ANISOU, ...) carry nothing a simulation needs.
  }

  const filled = frames.filter((f) => f.numbers.length > 0);
  if (filled.length === 0) throw new StructureParseError(fileName, null, 'no ATOM or HETATM records (no atoms to read)');
  return filled.map((f) => ({
    numbers: Int32Array.from(f.numbers),
    positions: Float64Array.from(f.positions),
    cell: cell ? Float64Array.from(cell) : null,
    pbc: cell ? [true, true, true] : [false, false, false],
    charge: 0,
    spin: 1,
    // Array names as ASE's PDB reader uses them.
    arrays: {
      atomtypes: f.names,
      residuenames: f.residueNames,
      residuenumbers: Int32Array.from(f.residueNumbers),
    },
  }));
}
