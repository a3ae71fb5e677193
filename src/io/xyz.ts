// XYZ and extended XYZ (extXYZ) reader and extXYZ writer, multi-frame.
//
// extXYZ is the format ASE writes: line 1 = atom count, line 2 = key=value pairs
// (Lattice="ax ay az bx by bz cx cy cz" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.2 pbc="T T T"),
// then one line per atom whose columns follow `Properties`. A plain XYZ file has a free-text comment line
// and columns "symbol x y z". Charge and spin multiplicity are read from the `charge=` and `spin=` keys
// (fairchem's convention for `atoms.info`).
//
// Untrusted input: nothing is allocated from a header alone (atom and column counts are checked
// against the text that is there first), every number that reaches a structure is finite, and every
// failure is a StructureParseError naming the file, line and problem.

import { cellProblem } from '../geometry/cell';
import { atomicNumberOrNull, chemicalSymbol } from './elements';
import { guardedRead, type ReadPosition, StructureParseError } from './errors';
import type { InfoValue, JsonValue, Pbc, Structure } from './structure';
import { StructureWriteError } from './writeErrors';

/** One column group of the Properties key, e.g. forces:R:3. */
interface PropertyColumn {
  name: string;
  type: 'S' | 'R' | 'I' | 'L';
  count: number;
}

/** The default layout of a plain XYZ file. */
const DEFAULT_PROPERTIES: PropertyColumn[] = [
  { name: 'species', type: 'S', count: 1 },
  { name: 'pos', type: 'R', count: 3 },
];

interface Comment {
  info: Record<string, InfoValue>;
  cell: Float64Array | null;
  pbc: Pbc;
  properties: PropertyColumn[] | null;
  charge: number;
  spin: number;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(nan|inf|infinity)$/i;
const INTEGER_RE = /^[+-]?\d+$/;
const INT32_MAX = 2147483647;

/** Parses a real number as Fortran-era files write it (accepts a D exponent); NaN if it is not one. */
function parseReal(token: string): number {
  if (!NUMBER_RE.test(token)) return Number.NaN;
  const x = Number(token);
  return Number.isNaN(x) ? Number(token.replace(/[dD]/, 'e')) : x;
}

/** The number a word means in ASE's sense (Python float, nan and inf included), or null; one regex test for ordinary numbers. */
function infoNumber(token: string): number | null {
  if (NUMBER_RE.test(token)) {
    const x = Number(token);
    return Number.isNaN(x) ? Number(token.replace(/[dD]/, 'e')) : x;
  }
  return NON_FINITE_RE.test(token) ? Number.NaN : null;
}

/** A number in ASE's sense (Python float), including the words nan and inf. */
function isNumberWord(token: string): boolean {
  return NUMBER_RE.test(token) || NON_FINITE_RE.test(token);
}

function parseBool(token: string): boolean | null {
  switch (token) {
    case 'T':
    case 'True':
    case 'true':
    case 'TRUE':
      return true;
    case 'F':
    case 'False':
    case 'false':
    case 'FALSE':
      return false;
    default:
      return null;
  }
}

/** User text echoed in a message, shortened so a 10 MB value cannot make a 10 MB message. */
function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Sets an own property even for keys like "__proto__", which plain assignment would treat specially. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Comment line

interface KeyValueToken {
  key: string;
  /** null for a bare key (which means `true`). */
  value: string | null;
}

const BACKSLASH = 92;
const EQUALS = 61;

/** The closing delimiter for an opening one (" ' { [), else 0. */
function closingOf(c: number): number {
  switch (c) {
    case 34:
    case 39:
      return c;
    case 123:
      return 125;
    case 91:
      return 93;
    default:
      return 0;
  }
}

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13 || c === 10;
}

/**
 * Splits an extXYZ comment line into key=value tokens with ASE's rules (quotes, {…} and […] group,
 * a backslash takes the next character literally, spaces around "=" are allowed, further "=" belong
 * to the value). One pass over the line, copying runs of characters by slice, so a 10 MB line costs
 * tens of milliseconds. Returns an error string if the line is malformed.
 */
function tokenizeComment(line: string): KeyValueToken[] | string {
  const tokens: KeyValueToken[] = [];
  // The entry being read: its key once finished, its value parts joined by "=" so far.
  let key: string | null = null;
  let value: string | null = null;
  let acc = ''; // the field being read (key or value part)
  let touched = false; // the field has characters or an (empty) quoted group
  let runStart = -1; // start of a run of literal characters not yet copied into acc
  let close = 0; // closing delimiter we are inside, 0 outside
  let openColumn = 0;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (close !== 0) {
      if (c === BACKSLASH) {
        if (runStart >= 0) acc += line.slice(runStart, i);
        runStart = i + 1 < n ? ++i : -1;
      } else if (c === close) {
        if (runStart >= 0) acc += line.slice(runStart, i);
        runStart = -1;
        close = 0;
      } else if (runStart < 0) {
        runStart = i;
      }
      continue;
    }
    const closing = closingOf(c);
    if (c === BACKSLASH || closing !== 0 || c === EQUALS || isSpaceCode(c)) {
      if (runStart >= 0) acc += line.slice(runStart, i);
      runStart = -1;
    } else {
      touched = true;
      if (runStart < 0) runStart = i;
      continue;
    }
    if (c === BACKSLASH) {
      touched = true;
      if (i + 1 < n) runStart = ++i;
    } else if (closing !== 0) {
      close = closing;
      openColumn = i + 1;
      touched = true;
    } else if (c === EQUALS) {
      if (!touched && key === null) {
        // "key =value": the "=" continues the previous entry.
        const previous = tokens.pop();
        if (previous === undefined) return `"=" without a key at column ${i + 1}`;
        key = previous.key;
        value = previous.value;
      } else if (key === null) {
        key = acc;
      } else {
        value = value === null ? acc : `${value}=${acc}`;
      }
      acc = '';
      touched = false;
    } else if (touched) {
      // A space after a field ends the entry; spaces after "=" or between entries separate nothing.
      if (key === null) tokens.push({ key: acc, value: null });
      else tokens.push({ key, value: value === null ? acc : `${value}=${acc}` });
      key = value = null;
      acc = '';
      touched = false;
    }
  }
  if (close !== 0) {
    const what = close === 34 || close === 39 ? 'quote' : `"${line[openColumn - 1]}"`;
    return key === null ? `unterminated ${what} in a key (column ${openColumn})` : `unterminated ${what} in the value of "${clip(key)}"`;
  }
  if (runStart >= 0) acc += line.slice(runStart, n);
  if (touched || key !== null) {
    if (key === null) tokens.push({ key: acc, value: null });
    else tokens.push({ key, value: value === null ? acc : `${value}=${acc}` });
  }
  for (const t of tokens) if (t.key.length === 0) return '"=" without a key';
  return tokens;
}

/** Whitespace- or comma-separated items, as ASE splits values (re.findall(r'[^\s,]+')). */
function splitItems(value: string): string[] {
  if (!/[\s,]/.test(value)) return value.length > 0 ? [value] : [];
  return value.match(/[^\s,]+/g) ?? [];
}

/**
 * Converts an info value the way ASE does: one or several numbers, T/F booleans (one or a list),
 * `_JSON …` decoded, else the string. Non-finite numbers (nan, inf, 1e999) are an error.
 */
function convertInfoValue(key: string, value: string | null, fail: (p: string) => never): InfoValue {
  if (value === null) return true;
  if (value.startsWith('_JSON ')) return decodeJson(key, value.slice(6), fail);
  const items = splitItems(value);
  if (items.length === 0) return value;
  // Decide from the first item, then check the rest, so a long free-text value is rejected as a
  // number or boolean list at once instead of after converting every word.
  if (isNumberWord(items[0])) {
    const numbers: number[] = [];
    for (const t of items) {
      const x = infoNumber(t);
      if (x === null) return value;
      numbers.push(x);
    }
    const bad = numbers.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) fail(`info key "${clip(key)}" has the value "${items[bad].slice(0, 40)}", which is not a finite number`);
    return numbers.length === 1 ? numbers[0] : numbers;
  }
  if (parseBool(items[0]) !== null) {
    const bools: boolean[] = [];
    for (const t of items) {
      const b = parseBool(t);
      if (b === null) return value;
      bools.push(b);
    }
    return bools.length === 1 ? bools[0] : bools;
  }
  return value;
}

/** Nesting deeper than this in a _JSON value is refused (JSON.parse itself recurses). */
const MAX_JSON_DEPTH = 64;

function decodeJson(key: string, text: string, fail: (p: string) => never): JsonValue {
  // JSON.parse recurses per nesting level; bound the depth first so no value overflows the stack.
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) fail(`info key "${clip(key)}": the _JSON value nests deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 93 || c === 125) depth--;
  }
  let parsed: JsonValue;
  let nonFinite = false;
  try {
    // JSON numbers like 1e999 parse to Infinity: refused as everywhere else.
    parsed = JSON.parse(text, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) nonFinite = true;
      return v;
    }) as JsonValue;
  } catch (e) {
    return fail(`info key "${clip(key)}": the _JSON value is not valid JSON (${clip((e as Error).message, 200)})`);
  }
  if (nonFinite) fail(`info key "${clip(key)}": the _JSON value holds a number that is not finite (e.g. 1e999)`);
  return parsed;
}

function parseProperties(value: string, fail: (p: string) => never): PropertyColumn[] {
  const parts = value.split(':');
  if (parts.length % 3 !== 0) {
    fail(`Properties="${clip(value)}" must be name:type:count triples (e.g. species:S:1:pos:R:3)`);
  }
  const columns: PropertyColumn[] = [];
  const seen = new Set<string>();
  for (let p = 0; p < parts.length; p += 3) {
    const [name, type, countText] = [parts[p], parts[p + 1], parts[p + 2]];
    if (name.length === 0) fail(`Properties: column ${p / 3 + 1} has no name`);
    if (!['S', 'R', 'I', 'L'].includes(type)) {
      fail(`Properties: column "${clip(name)}" has type "${clip(type)}"; expected S (string), R (real), I (integer) or L (logical)`);
    }
    const count = Number(countText);
    if (!/^\d+$/.test(countText) || count < 1) {
      fail(`Properties: column "${clip(name)}" has count "${clip(countText)}"; expected a positive whole number`);
    }
    if (seen.has(name)) fail(`Properties: column "${clip(name)}" appears twice`);
    seen.add(name);
    columns.push({ name, type: type as PropertyColumn['type'], count });
  }
  const species = columns.find((c) => c.name === 'species');
  const z = columns.find((c) => c.name === 'Z');
  if (!species && !z) fail(`Properties="${clip(value)}" has no species column (species:S:1 or Z:I:1)`);
  if (species && (species.count !== 1 || (species.type !== 'S' && species.type !== 'I'))) {
    fail(`Properties: species must be species:S:1, got species:${species.type}:${species.count}`);
  }
  if (!species && z && (z.count !== 1 || z.type !== 'I')) fail(`Properties: Z must be Z:I:1, got Z:${z.type}:${z.count}`);
  const pos = columns.find((c) => c.name === 'pos' || c.name === 'positions');
  if (!pos) fail(`Properties="${clip(value)}" has no position column (pos:R:3)`);
  if (pos.type !== 'R' || pos.count !== 3) fail(`Properties: ${pos.name} must be ${pos.name}:R:3, got ${pos.name}:${pos.type}:${pos.count}`);
  return columns;
}

function parseComment(line: string, fail: (p: string) => never): Comment {
  const result: Comment = {
    info: {},
    cell: null,
    pbc: [false, false, false],
    properties: null,
    charge: 0,
    spin: 1,
  };
  if (!line.includes('=')) {
    if (line.trim().length > 0) result.info.comment = line.trim();
    return result;
  }
  const looksExtended = /(^|\s)(lattice|properties|pbc)\s*=/i.test(line);
  const tokens = tokenizeComment(line);
  if (typeof tokens === 'string') {
    if (looksExtended) fail(`cannot read the extXYZ comment line: ${tokens}`);
    result.info.comment = line.trim();
    return result;
  }
  let pbcGiven: Pbc | null = null;
  // Collected in a Map and turned into an object once: fromEntries makes own properties (a key named
  // __proto__ included) and is much faster than growing an object key by key for very many keys.
  const info = new Map<string, InfoValue>();
  for (const { key, value } of tokens) {
    const k = key.toLowerCase();
    if (k === 'lattice') {
      if (value === null) fail('Lattice has no value; expected Lattice="ax ay az bx by bz cx cy cz"');
      const items = splitItems(value);
      if (items.length !== 9) {
        fail(`Lattice must have 9 numbers (three lattice vectors a, b, c), got ${items.length}`);
      }
      const cell = new Float64Array(9);
      items.forEach((t, idx) => {
        const x = parseReal(t);
        if (!Number.isFinite(x)) fail(`Lattice value "${clip(t)}" is not a finite number`);
        cell[idx] = x;
      });
      const problem = cellProblem(cell);
      if (problem !== null) fail(`Lattice: ${problem}`);
      result.cell = cell;
    } else if (k === 'properties') {
      if (value === null) fail('Properties has no value; expected e.g. Properties=species:S:1:pos:R:3');
      result.properties = parseProperties(value, fail);
    } else if (k === 'pbc') {
      if (value === null) fail('pbc has no value; expected e.g. pbc="T T T"');
      const items = splitItems(value);
      const flags = items.map((t) => (t === '1' ? true : t === '0' ? false : parseBool(t)));
      if (flags.length !== 3 || flags.some((f) => f === null)) {
        fail(`pbc="${clip(value)}" must be three booleans, e.g. pbc="T T T"`);
      }
      pbcGiven = flags as Pbc;
    } else if (key === 'charge' || key === 'spin') {
      const v = value === null ? Number.NaN : parseReal(value.trim());
      if (!Number.isSafeInteger(v)) fail(`${key} must be a whole number, got "${clip(value ?? '')}"`);
      if (key === 'spin' && v < 0) fail(`spin is the spin multiplicity (2S+1) and cannot be negative, got ${v}`);
      if (key === 'charge') result.charge = v;
      else result.spin = v;
    } else {
      info.set(key, convertInfoValue(key, value, fail));
    }
  }
  result.info = Object.fromEntries(info);
  if (result.cell) {
    // ASE's convention: a Lattice without pbc means periodic in all directions.
    result.pbc = pbcGiven ?? [true, true, true];
  } else if (pbcGiven) {
    if (pbcGiven.some((p) => p)) {
      fail(`pbc="${pbcGiven.map((p) => (p ? 'T' : 'F')).join(' ')}" but no Lattice is given: a periodic structure needs its cell`);
    }
    result.pbc = pbcGiven;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Atom lines

function describeColumns(columns: PropertyColumn[], plain: boolean): string {
  if (plain) return 'symbol x y z';
  return columns.map((c) => (c.count === 1 ? c.name : `${c.name}×${c.count}`)).join(', ');
}

const AXIS = ['x', 'y', 'z'];

/**
 * Reads every frame of an XYZ or extXYZ file.
 * Throws StructureParseError naming the file, line and problem for malformed input.
 */
export function readXyz(text: string, fileName = 'input.xyz'): Structure[] {
  return guardedRead(fileName, (at) => readFrames(text, fileName, at));
}

function readFrames(text: string, fileName: string, at: ReadPosition): Structure[] {
  const lines = text.split(/\r\n|\n|\r/);
  const frames: Structure[] = [];
  let i = 0;
  for (;;) {
    while (i < lines.length && lines[i].trim() === '') i++;
    if (i >= lines.length) break;
    const frameNo = frames.length + 1;
    const countLine = i + 1;
    at.line = countLine;
    const countText = lines[i].trim();
    // Some writers put more on the count line (e.g. "3 water"); the first token is the count.
    const firstToken = countText.split(/\s+/)[0];
    if (!/^\d+$/.test(firstToken)) {
      throw new StructureParseError(
        fileName,
        countLine,
        `expected the number of atoms (a whole number) at the start of frame ${frameNo}, got "${countText.slice(0, 80)}"`,
      );
    }
    const n = Number(firstToken);
    if (n === 0) throw new StructureParseError(fileName, countLine, `frame ${frameNo} has 0 atoms`);
    i++;
    if (i >= lines.length) {
      throw new StructureParseError(fileName, countLine + 1, `file ends before the comment line of frame ${frameNo}`);
    }
    // Checked before anything is sized from n: each atom needs a line of its own.
    const linesLeft = lines.length - (i + 1);
    if (n > linesLeft) {
      throw new StructureParseError(
        fileName,
        countLine,
        `frame ${frameNo} says ${clip(firstToken, 30)} atoms, but only ${linesLeft} line${linesLeft === 1 ? '' : 's'} follow the comment line`,
      );
    }
    const commentLine = i + 1;
    at.line = commentLine;
    const fail = (problem: string): never => {
      throw new StructureParseError(fileName, commentLine, problem);
    };
    const comment = parseComment(lines[i], fail);
    i++;
    const plain = comment.properties === null;
    const columns = comment.properties ?? DEFAULT_PROPERTIES;
    const totalColumns = columns.reduce((s, c) => s + c.count, 0);
    // Each column of each atom needs at least one character and a separator: bound n × columns by the
    // text before sizing arrays from them.
    if (!plain && n * (2 * totalColumns - 1) > text.length) {
      fail(
        `Properties asks for ${totalColumns} columns on each of ${n} atom lines, ` +
          `more than the ${text.length} characters of the file can hold`,
      );
    }

    const numbers = new Int32Array(n);
    const positions = new Float64Array(3 * n);
    const arrays: Record<string, Float64Array | Int32Array | string[]> = {};
    const speciesColumn = columns.find((c) => c.name === 'species') ?? columns.find((c) => c.name === 'Z');
    for (const c of columns) {
      if (c === speciesColumn || c.name === 'pos' || c.name === 'positions') continue;
      setOwn(arrays, c.name, c.type === 'R' ? new Float64Array(n * c.count) : c.type === 'S' ? [] : new Int32Array(n * c.count));
    }

    for (let a = 0; a < n; a++, i++) {
      const lineNo = i + 1;
      at.line = lineNo;
      const failAt = (problem: string): never => {
        throw new StructureParseError(fileName, lineNo, problem);
      };
      const tokens = i < lines.length ? splitAtomLine(lines[i]) : [];
      if (tokens.length === 0) {
        if (lines.slice(i).every((l) => l.trim() === '')) {
          failAt(`file ends after ${a} of ${n} atoms of frame ${frameNo}`);
        }
        failAt(`empty line where atom ${a + 1} of ${n} (frame ${frameNo}) should be`);
      }
      // Columns beyond those declared are ignored, as ASE does (QUIP writes charges after pos:R:3).
      if (tokens.length < totalColumns) {
        failAt(`expected ${totalColumns} columns (${clip(describeColumns(columns, plain), 200)}), got ${tokens.length}`);
      }
      let col = 0;
      for (const c of columns) {
        const start = col;
        col += c.count;
        if (c === speciesColumn) {
          const t = tokens[start];
          const z = INTEGER_RE.test(t) ? Number(t) : atomicNumberOrNull(t);
          if (z === null || z < 1 || z > 118) failAt(`unknown element "${t.slice(0, 40)}"`);
          numbers[a] = z as number;
          continue;
        }
        if (c.name === 'pos' || c.name === 'positions') {
          for (let d = 0; d < 3; d++) {
            const x = parseReal(tokens[start + d]);
            if (!Number.isFinite(x)) failAt(`${AXIS[d]} coordinate "${tokens[start + d].slice(0, 40)}" is not a finite number`);
            positions[3 * a + d] = x;
          }
          continue;
        }
        const target = arrays[c.name];
        for (let d = 0; d < c.count; d++) {
          const t = tokens[start + d];
          if (c.type === 'S') {
            (target as string[]).push(t);
          } else if (c.type === 'R') {
            const x = parseReal(t);
            if (!Number.isFinite(x)) failAt(`column "${c.name}" value "${t.slice(0, 40)}" is not a finite number`);
            (target as Float64Array)[a * c.count + d] = x;
          } else if (c.type === 'I') {
            const v = Number(t);
            if (!INTEGER_RE.test(t) || Math.abs(v) > INT32_MAX) {
              failAt(`column "${c.name}" value "${t.slice(0, 40)}" is not a whole number between −2³¹ and 2³¹`);
            }
            (target as Int32Array)[a * c.count + d] = v;
          } else {
            const b = parseBool(t);
            if (b === null) failAt(`column "${c.name}" value "${t.slice(0, 40)}" is not a logical (T or F)`);
            (target as Int32Array)[a * c.count + d] = b ? 1 : 0;
          }
        }
      }
    }

    const structure: Structure = {
      numbers,
      positions,
      cell: comment.cell,
      pbc: comment.pbc,
      charge: comment.charge,
      spin: comment.spin,
    };
    if (Object.keys(comment.info).length > 0) structure.info = comment.info;
    if (Object.keys(arrays).length > 0) structure.arrays = arrays;
    frames.push(structure);
  }
  at.line = null;
  if (frames.length === 0) throw new StructureParseError(fileName, null, 'the file is empty (no atoms to read)');
  return frames;
}

/** Whitespace-separated tokens of an atom line. */
function splitAtomLine(line: string): string[] {
  return line.match(/\S+/g) ?? [];
}

// ---------------------------------------------------------------------------------------------
// Writer

/** Keys the writer sets itself from the structure's fields. */
const RESERVED_KEYS = ['lattice', 'properties', 'pbc', 'charge', 'spin'];

/** Quotes a value or key for the comment line; a backslash and a quote are escaped as ASE's reader expects. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * True when a string written as a quoted value reads back as the same string, in our reader and in
 * ASE's: not empty, on one line, not a number, T/F or list of them, not itself a _JSON value.
 */
function stringReadsBack(s: string): boolean {
  if (/[\r\n]/.test(s) || s.startsWith('_JSON ')) return false;
  const items = splitItems(s);
  if (items.length === 0) return false;
  if (items.every(isNumberWord)) return false;
  if (items.every((t) => parseBool(t) !== null)) return false;
  // ASE keeps a value verbatim only if the whole value is one quoted group.
  return true;
}

function formatInfoValue(key: string, v: InfoValue): string {
  const fail = (problem: string): never => {
    throw new StructureWriteError('extXYZ', `info key "${key}" ${problem}`);
  };
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(`is ${v}, not a finite number`);
    return String(v);
  }
  if (typeof v === 'string') {
    if (!stringReadsBack(v)) return quote(`_JSON ${JSON.stringify(v)}`);
    return /^[^\s"'=\\{}[\],]+$/.test(v) ? v : quote(v);
  }
  if (Array.isArray(v) && v.length >= 2) {
    if (v.every((x) => typeof x === 'number')) {
      const bad = (v as number[]).find((x) => !Number.isFinite(x));
      if (bad !== undefined) fail(`holds ${bad}, not a finite number`);
      return quote(v.map(String).join(' '));
    }
    if (v.every((x) => typeof x === 'boolean')) return quote(v.map((x) => (x ? 'T' : 'F')).join(' '));
  }
  // Anything else (objects, nested or short lists, null) as JSON, which ASE and our reader decode.
  let json: string;
  try {
    json = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'number' && !Number.isFinite(x)) fail(`holds ${x}, not a finite number`);
      return x as unknown;
    });
  } catch (e) {
    if (e instanceof StructureWriteError) throw e;
    return fail(`cannot be written as JSON (${(e as Error).message})`);
  }
  return quote(`_JSON ${json}`);
}

function formatKey(key: string): string {
  if (key.length === 0) throw new StructureWriteError('extXYZ', 'an info key is empty');
  if (/[\r\n]/.test(key)) throw new StructureWriteError('extXYZ', `info key ${JSON.stringify(key)} spans lines`);
  return /^[A-Za-z_][\w.-]*$/.test(key) ? key : quote(key);
}

export interface ExtXyzWriteOptions {
  /**
   * Decimal places for per-atom real columns. Default: the shortest text that reads back as the
   * same float64, so a file written and read again gives identical numbers.
   */
  decimals?: number;
}

interface WriteColumn {
  name: string;
  type: 'S' | 'R' | 'I';
  count: number;
  data: Float64Array | Int32Array | string[];
}

/** Per-atom arrays as Properties columns; refuses what the column format cannot hold. */
function writeColumns(s: Structure): WriteColumn[] {
  const n = s.numbers.length;
  const columns: WriteColumn[] = [];
  for (const [name, data] of Object.entries(s.arrays ?? {})) {
    if (name === 'species' || name === 'pos' || name === 'positions') continue;
    const fail = (problem: string): never => {
      throw new StructureWriteError('extXYZ', `per-atom array "${name}" ${problem}`);
    };
    // Properties is name:type:count triples separated by ":" on a whitespace-separated line.
    // Properties is name:type:count triples; any other character is written inside a quoted value.
    if (name.length === 0 || /[:\r\n]/.test(name)) fail('has a name extXYZ cannot hold (empty, or with ":" or a line break)');
    if (data.length === 0 || data.length % n !== 0) fail(`has ${data.length} values, not a multiple of the ${n} atoms`);
    if (Array.isArray(data)) {
      // Atom lines are split at whitespace, so a string column cannot hold spaces or empty strings.
      const bad = data.findIndex((t) => typeof t !== 'string' || !/^\S+$/.test(t));
      if (bad >= 0) fail(`value ${JSON.stringify(data[bad])} (entry ${bad}) is empty or has whitespace, which an atom line cannot hold`);
      columns.push({ name, type: 'S', count: data.length / n, data });
    } else {
      if (data instanceof Float64Array) {
        const bad = data.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) fail(`entry ${bad} is ${data[bad]}, not a finite number`);
      }
      columns.push({ name, type: data instanceof Float64Array ? 'R' : 'I', count: data.length / n, data });
    }
  }
  return columns;
}

/**
 * Writes one or several structures as extXYZ text (ASE-compatible): Lattice and pbc for cells,
 * Properties with species, positions and every per-atom array, then info keys, charge and spin.
 * Info strings that would not read back as themselves (empty, numeric-looking, multi-line) are written
 * as `"_JSON …"`, which ASE and readXyz decode. Throws StructureWriteError for what extXYZ cannot
 * hold (non-finite numbers, per-atom strings with spaces, array lengths that are not per atom).
 */
export function writeExtXyz(frames: Structure | Structure[], options: ExtXyzWriteOptions = {}): string {
  const list = Array.isArray(frames) ? frames : [frames];
  const decimals = options.decimals;
  const out: string[] = [];
  for (const s of list) {
    const n = s.numbers.length;
    const bad = s.positions.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new StructureWriteError('extXYZ', `atom ${Math.floor(bad / 3)} has a non-finite ${AXIS[bad % 3]} position (${s.positions[bad]})`);
    }
    if (s.cell && s.cell.some((x) => !Number.isFinite(x))) throw new StructureWriteError('extXYZ', 'the cell has non-finite entries');
    const columns = writeColumns(s);
    const props = ['species:S:1', 'pos:R:3', ...columns.map((c) => `${c.name}:${c.type}:${c.count}`)].join(':');
    const keys: string[] = [];
    if (s.cell) keys.push(`Lattice="${Array.from(s.cell, exact).join(' ')}"`);
    keys.push(`Properties=${/^[^\s"'=\\{}[\],]+$/.test(props) ? props : quote(props)}`);
    for (const [k, v] of Object.entries(s.info ?? {})) {
      if (RESERVED_KEYS.includes(k.toLowerCase())) continue;
      keys.push(`${formatKey(k)}=${formatInfoValue(k, v)}`);
    }
    keys.push(`charge=${s.charge}`, `spin=${s.spin}`);
    if (s.cell) keys.push(`pbc="${s.pbc.map((p) => (p ? 'T' : 'F')).join(' ')}"`);
    out.push(String(n), keys.join(' '));
    const real =
      decimals === undefined ? (x: number) => String(x).padStart(22) : (x: number) => x.toFixed(decimals).padStart(decimals + 6);
    for (let a = 0; a < n; a++) {
      let line = chemicalSymbol(s.numbers[a]).padEnd(3);
      for (let d = 0; d < 3; d++) line += ' ' + real(s.positions[3 * a + d]);
      for (const c of columns) {
        for (let d = 0; d < c.count; d++) {
          const v = c.data[a * c.count + d];
          line += ' ' + (c.type === 'R' ? real(v as number) : c.type === 'I' ? String(v).padStart(4) : (v as string));
        }
      }
      out.push(line);
    }
  }
  return out.join('\n') + '\n';
}

/** Shortest text that reads back as exactly the same float64. */
function exact(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e15 ? x.toFixed(1) : String(x);
}
