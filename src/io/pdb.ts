// PDB reader: CRYST1 → periodic cell, ATOM/HETATM → atoms, MODEL/ENDMDL → frames.
// Columns follow the wwPDB 3.3 fixed-column layout (1-based, inclusive): atom name 13-16, altLoc 17,
// residue name 18-21 (the standard's 18-20 plus the column 21 that CHARMM/NAMD/GROMACS use for
// 4-character names such as TIP3), chain 22, residue number 23-26, insertion code 27, x 31-38,
// y 39-46, z 47-54, element 77-78.
//
// Policies (docs/file-formats.md says the same for users):
// - Alternate locations: the first one listed wins, as in OpenMM. A residue (chain, residue number,
//   insertion code) keeps the first altLoc listed in it and skips records with another one, so a
//   residue given as ILE (A, B) or LEU (C) stays ILE A; an altLoc record for an atom already given
//   without altLoc is skipped. A residue listed as B and C only keeps B. ASE and MDAnalysis keep every
//   location as an extra atom, which puts several copies of an atom on top of each other.
// - "No box": a CRYST1 with a zero length (as OpenMM reads it: CRYST1 0 0 0 …) and the standard's
//   placeholder for non-crystallographic structures (1 Å cube, 90°; MDAnalysis reads it so too) give a
//   molecule in vacuum. OpenMM and ASE take the placeholder literally as a 1 Å box.
// - Boxes of multi-model files: with as many CRYST1 as MODEL records, the i-th CRYST1 belongs to the
//   i-th model whether it comes before MODEL or after ENDMDL (MDAnalysis's rule; its test files
//   cryst_then_model.pdb and model_then_cryst.pdb give 80, 70, 60 Å either way). Otherwise each model
//   gets the last CRYST1 before its end, or the file's first CRYST1 if none precedes it.
// - END ends the file (later records are ignored), as in the standard.

import { cellFromParameters, cellProblem } from '../geometry/cell';
import { atomicNumberOrNull } from './elements';
import { guardedRead, type ReadPosition, StructureParseError } from './errors';
import type { Structure } from './structure';

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

interface FrameBuilder {
  numbers: number[];
  positions: number[];
  names: string[];
  residueNames: string[];
  residueNumbers: number[];
  /** 0-based line index of the frame's last record (ENDMDL or last atom). */
  endLine: number;
  /** The first altLoc listed in each residue (chain, residue number, insertion code). */
  residueAltLoc: Map<string, string>;
  /** Atoms (residue and name) given by a record without altLoc. */
  plainAtoms: Set<string>;
}

function newFrame(line: number): FrameBuilder {
  return { numbers: [], positions: [], names: [], residueNames: [], residueNumbers: [], endLine: line, residueAltLoc: new Map(), plainAtoms: new Set() };
}

/** One CRYST1 record: its line (0-based) and the cell, or null for "no box". */
export interface CrystRecord {
  line: number;
  cell: Float64Array | null;
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

const CRYST1_FIELDS: [number, number][] = [
  [6, 15],
  [15, 24],
  [24, 33],
  [33, 40],
  [40, 47],
  [47, 54],
];
const CRYST1_NAMES = ['a', 'b', 'c', 'α', 'β', 'γ'];

/** Cell of a CRYST1 record, null for "no box"; fail() for anything that is not a usable cell. */
export function parseCryst1(line: string, fail: (problem: string) => never): Float64Array | null {
  // The fixed columns first (they also read fields that run together, e.g. "1000.0001000.000");
  // whitespace-separated fields for writers that misalign them.
  let values = CRYST1_FIELDS.map(([from, to]) => line.slice(from, to).trim());
  if (!values.every((t) => NUMBER_RE.test(t))) values = line.slice(6).trim().split(/\s+/).slice(0, 6);
  if (values.length < 6 || !values.every((t) => NUMBER_RE.test(t))) {
    fail(`CRYST1 needs six numbers (a b c in Å, α β γ in degrees), got "${line.slice(6, 54).trim().slice(0, 60)}"`);
  }
  const [a, b, c, alpha, beta, gamma] = values.map(Number);
  values.map(Number).forEach((v, i) => {
    if (!Number.isFinite(v)) fail(`CRYST1 ${CRYST1_NAMES[i]} = "${values[i]}" is not a finite number`);
  });
  if (a < 0 || b < 0 || c < 0) fail(`CRYST1 cell lengths cannot be negative, got a = ${a}, b = ${b}, c = ${c} Å`);
  // OpenMM's rule: a zero length means the file has no box.
  if (a === 0 || b === 0 || c === 0) return null;
  // The standard's placeholder for structures without a crystal cell.
  if (a === 1 && b === 1 && c === 1 && alpha === 90 && beta === 90 && gamma === 90) return null;
  [alpha, beta, gamma].forEach((angle, i) => {
    if (!(angle > 0 && angle < 180)) {
      fail(`CRYST1 angle ${CRYST1_NAMES[i + 3]} = ${angle}° must lie strictly between 0° and 180°`);
    }
  });
  let cell: Float64Array;
  try {
    cell = cellFromParameters(a, b, c, alpha, beta, gamma);
  } catch {
    return fail(`CRYST1 angles α = ${alpha}°, β = ${beta}°, γ = ${gamma}° do not form a cell (a = ${a}, b = ${b}, c = ${c} Å)`);
  }
  const problem = cellProblem(cell);
  if (problem !== null) fail(`CRYST1: ${problem}`);
  return cell;
}

/**
 * The cell of each frame, by the multi-model policy described at the top of this file, from each frame's last
 * line (0-based, empty models included); exported for the trajectory reader, which indexes models one by one.
 */
export function modelCells(frameEndLines: number[], crysts: CrystRecord[]): (Float64Array | null)[] {
  if (crysts.length === 0) return frameEndLines.map(() => null);
  if (crysts.length === frameEndLines.length) return crysts.map((r) => r.cell);
  return frameEndLines.map((end) => {
    let inForce: CrystRecord = crysts[0];
    for (const r of crysts) if (r.line <= end) inForce = r;
    return inForce.cell;
  });
}

/**
 * Reads a PDB file. Returns one Structure per MODEL (or one if there are none).
 * Charge 0 and spin multiplicity 1 (PDB does not record them).
 */
export function readPdb(text: string, fileName = 'input.pdb'): Structure[] {
  return guardedRead(fileName, (at) => readFrames(text, fileName, at));
}

function readFrames(text: string, fileName: string, at: ReadPosition): Structure[] {
  const lines = text.split(/\r\n|\n|\r/);
  const crysts: CrystRecord[] = [];
  const frames: FrameBuilder[] = [];
  let current: FrameBuilder | null = null;
  let inModel = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    at.line = lineNo;
    const fail = (problem: string): never => {
      throw new StructureParseError(fileName, lineNo, problem);
    };
    const record = line.slice(0, 6).trim().toUpperCase();
    if (record === 'CRYST1') {
      crysts.push({ line: i, cell: parseCryst1(line, fail) });
    } else if (record === 'MODEL') {
      current = newFrame(i);
      frames.push(current);
      inModel = true;
    } else if (record === 'ENDMDL') {
      if (!inModel) fail('ENDMDL without a matching MODEL');
      if (current) current.endLine = i;
      inModel = false;
      current = null;
    } else if (record === 'END') {
      break;
    } else if (record === 'ATOM' || record === 'HETATM') {
      if (!current) {
        if (frames.length > 0 && !inModel) fail(`${record} record after ENDMDL outside any MODEL`);
        current = newFrame(i);
        frames.push(current);
      }
      current.endLine = i;
      const altLoc = line[16] ?? ' ';
      const name = line.slice(12, 16).padEnd(4);
      // First listed location wins (OpenMM's rule; see the policy at the top of the file): a residue keeps
      // the first altLoc listed in it, and an altLoc record for an atom already given without one is
      // skipped. Records without an altLoc are always kept, so atoms that merely share a name stay.
      const residueKey = `${line[21] ?? ' '}|${line.slice(22, 27)}`;
      const atomKey = `${residueKey}|${name}`;
      if (altLoc === ' ') {
        current.plainAtoms.add(atomKey);
      } else {
        const first = current.residueAltLoc.get(residueKey);
        if ((first !== undefined && first !== altLoc) || current.plainAtoms.has(atomKey)) continue;
        if (first === undefined) current.residueAltLoc.set(residueKey, altLoc);
      }
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
        const x = NUMBER_RE.test(t) ? Number(t) : Number.NaN;
        if (!Number.isFinite(x)) fail(`${axis} coordinate "${t}" (columns ${from + 1}-${to}) is not a finite number`);
        coords.push(x);
      }
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
      current.positions.push(coords[0], coords[1], coords[2]);
      current.names.push(name.trim());
      current.residueNames.push(line.slice(17, 21).trim());
      current.residueNumbers.push(/^[+-]?\d+$/.test(resSeqText) ? Number(resSeqText) : 0);
    }
    // Other records (HEADER, REMARK, TER, CONECT, ANISOU, ...) carry nothing a simulation needs.
  }
  at.line = null;

  const filled = frames.filter((f) => f.numbers.length > 0);
  if (filled.length === 0) throw new StructureParseError(fileName, null, 'no ATOM or HETATM records (no atoms to read)');
  const cells = modelCells(frames.map((f) => f.endLine), crysts);
  const out: Structure[] = [];
  frames.forEach((f, k) => {
    if (f.numbers.length === 0) return;
    const cell = cells[k];
    out.push({
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
    });
  });
  return out;
}
