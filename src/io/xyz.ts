// XYZ and extended XYZ (extXYZ) reader and extXYZ writer, multi-frame.
//
// extXYZ is the format ASE writes: line 1 = atom count, line 2 = key=value pairs
// (Lattice="ax ay az bx by bz cx cy cz" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.2 pbc="T T T"),
// then one line per atom whose columns follow `Properties`. A plain XYZ file has a free-text comment line
// and columns "symbol x y z". Charge and spin multiplicity are read from the `charge=` and `spin=` keys
// (fairchem's convention for `atoms.info`).

import { cellDeterminant } from './cell';
import { atomicNumberOrNull, chemicalSymbol } from './elements';
import { StructureParseError } from './errors';
import type { Pbc, Structure } from './structure';

type InfoValue = string | number | boolean | number[];

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
const INTEGER_RE = /^[+-]?\d+$/;

/** Parses a real number as Fortran-era files write it (accepts a D exponent); NaN if it is not one. */
function parseReal(token: string): number {
  if (!NUMBER_RE.test(token)) {
    const lower = token.toLowerCase();
    if (lower === 'nan' || lower === '+nan' || lower === '-nan') return Number.NaN;
    if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
    if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
    return Number.NaN;
  }
  return Number(token.replace(/[dD]/, 'e'));
}

function isRealToken(token: string): boolean {
  return NUMBER_RE.test(token);
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

// ---------------------------------------------------------------------------------------------
// Comment line

interface KeyValueToken {
  key: string;
  /** null for a bare key (which means `true`). */
  value: string | null;
  /** true when the value was quoted or bracketed, so it may hold several whitespace-separated items. */
  grouped: boolean;
}

/** Splits an extXYZ comment line into key=value tokens; returns an error string if it is malformed. */
function tokenizeComment(line: string): KeyValueToken[] | string {
  const tokens: KeyValueToken[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\t';
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    let key = '';
    if (line[i] === '"') {
      // Quoted keys are allowed by the extXYZ grammar.
      i++;
      while (i < n && line[i] !== '"') key += line[i++];
      if (i >= n) return `unterminated quote in key "${key}"`;
      i++;
    } else {
      while (i < n && !isSpace(line[i]) && line[i] !== '=') key += line[i++];
    }
    if (key.length === 0) return `"=" without a key at column ${i + 1}`;
    let j = i;
    while (j < n && isSpace(line[j])) j++;
    if (j >= n || line[j] !== '=') {
      tokens.push({ key, value: null, grouped: false });
      continue;
    }
    i = j + 1;
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return `key "${key}" has "=" but no value`;
    const open = line[i];
    if (open === '"' || open === "'") {
      let value = '';
      i++;
      while (i < n && line[i] !== open) {
        if (line[i] === '\\' && i + 1 < n) {
          const next = line[i + 1];
          value += next === 'n' ? '\n' : next;
          i += 2;
        } else {
          value += line[i++];
        }
      }
      if (i >= n) return `unterminated quote in the value of "${key}"`;
      i++;
      tokens.push({ key, value, grouped: true });
    } else if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      const end = line.indexOf(close, i + 1);
      if (end < 0) return `unterminated "${open}" in the value of "${key}"`;
      tokens.push({ key, value: line.slice(i + 1, end), grouped: true });
      i = end + 1;
    } else {
      let value = '';
      while (i < n && !isSpace(line[i])) value += line[i++];
      tokens.push({ key, value, grouped: false });
    }
  }
  return tokens;
}

function splitItems(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** Converts an info value the way ASE does: bool, int, float, list of numbers, or string. */
function convertInfoValue(value: string | null, grouped: boolean): InfoValue {
  if (value === null) return true;
  const items = grouped ? splitItems(value) : [value];
  if (items.length === 1) {
    const b = parseBool(items[0]);
    if (b !== null) return b;
    if (isRealToken(items[0])) return parseReal(items[0]);
    return value;
  }
  if (items.length > 1 && items.every(isRealToken)) return items.map(parseReal);
  return value;
}

function parseProperties(value: string, fail: (p: string) => never): PropertyColumn[] {
  const parts = value.split(':');
  if (parts.length % 3 !== 0) {
    fail(`Properties="${value}" must be name:type:count triples (e.g. species:S:1:pos:R:3)`);
  }
  const columns: PropertyColumn[] = [];
  for (let p = 0; p < parts.length; p += 3) {
    const [name, type, countText] = [parts[p], parts[p + 1], parts[p + 2]];
    if (!['S', 'R', 'I', 'L'].includes(type)) {
      fail(`Properties: column "${name}" has type "${type}"; expected S (string), R (real), I (integer) or L (logical)`);
    }
    const count = Number(countText);
    if (!INTEGER_RE.test(countText) || count < 1) {
      fail(`Properties: column "${name}" has count "${countText}"; expected a positive whole number`);
    }
    if (columns.some((c) => c.name === name)) fail(`Properties: column "${name}" appears twice`);
    columns.push({ name, type: type as PropertyColumn['type'], count });
  }
  const species = columns.find((c) => c.name === 'species');
  const z = columns.find((c) => c.name === 'Z');
  if (!species && !z) fail(`Properties="${value}" has no species column (species:S:1 or Z:I:1)`);
  if (species && (species.count !== 1 || (species.type !== 'S' && species.type !== 'I'))) {
    fail(`Properties: species must be species:S:1, got species:${species.type}:${species.count}`);
  }
  const pos = columns.find((c) => c.name === 'pos' || c.name === 'positions');
  if (!pos) fail(`Properties="${value}" has no position column (pos:R:3)`);
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
  const lower = line.toLowerCase();
  const looksExtended = /(^|\s)(lattice|properties|pbc)\s*=/.test(lower);
  if (!line.includes('=')) {
    if (line.trim().length > 0) result.info.comment = line.trim();
    return result;
  }
  const tokens = tokenizeComment(line);
  if (typeof tokens === 'string') {
    if (looksExtended) fail(`cannot read the extXYZ comment line: ${tokens}`);
    result.info.comment = line.trim();
    return result;
  }
  let pbcGiven: Pbc | null = null;
  for (const { key, value, grouped } of tokens) {
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
        if (!Number.isFinite(x)) fail(`Lattice value "${t}" is not a finite number`);
        cell[idx] = x;
      });
      const det = cellDeterminant(cell);
      if (Math.abs(det) < 1e-9) {
        fail(`Lattice vectors are linearly dependent (cell volume ${det.toPrecision(3)} Å³)`);
      }
      result.cell = cell;
    } else if (k === 'properties') {
      if (value === null) fail('Properties has no value; expected e.g. Properties=species:S:1:pos:R:3');
      result.properties = parseProperties(value, fail);
    } else if (k === 'pbc') {
      if (value === null) fail('pbc has no value; expected e.g. pbc="T T T"');
      const items = splitItems(value);
      const flags = items.map((t) => (t === '1' ? true : t === '0' ? false : parseBool(t)));
      if (flags.length !== 3 || flags.some((f) => f === null)) {
        fail(`pbc="${value}" must be three booleans, e.g. pbc="T T T"`);
      }
      pbcGiven = flags as Pbc;
    } else if (key === 'charge' || key === 'spin') {
      const v = value === null ? Number.NaN : parseReal(value);
      if (!Number.isInteger(v)) fail(`${key} must be a whole number, got "${value ?? ''}"`);
      if (key === 'spin' && v < 0) fail(`spin is the spin multiplicity (2S+1) and cannot be negative, got ${v}`);
      if (key === 'charge') result.charge = v;
      else result.spin = v;
    } else {
      result.info[key] = convertInfoValue(value, grouped);
    }
  }
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
  const lines = text.split(/\r\n|\n|\r/);
  const frames: Structure[] = [];
  let i = 0;
  for (;;) {
    while (i < lines.length && lines[i].trim() === '') i++;
    if (i >= lines.length) break;
    const frameNo = frames.length + 1;
    const countLine = i + 1;
    const countText = lines[i].trim();
    // Some writers put more on the count line (e.g. "3 water"); the first token is the count.
    const firstToken = countText.split(/\s+/)[0];
    if (!/^\d+$/.test(firstToken)) {
      throw new StructureParseError(
        fileName,
        countLine,
        `expected the number of atoms (a whole number) at the start of frame ${frameNo}, got "${countText}"`,
      );
    }
    const n = Number(firstToken);
    i++;
    if (i >= lines.length) {
      throw new StructureParseError(fileName, countLine + 1, `file ends before the comment line of frame ${frameNo}`);
    }
    const commentLine = i + 1;
    const fail = (problem: string): never => {
      throw new StructureParseError(fileName, commentLine, problem);
    };
    const comment = parseComment(lines[i], fail);
    i++;
    const plain = comment.properties === null;
    const columns = comment.properties ?? DEFAULT_PROPERTIES;
    const totalColumns = columns.reduce((s, c) => s + c.count, 0);

    const numbers = new Int32Array(n);
    const positions = new Float64Array(3 * n);
    const arrays: Record<string, Float64Array | Int32Array | string[]> = {};
    const speciesColumn = columns.find((c) => c.name === 'species') ?? columns.find((c) => c.name === 'Z');
    for (const c of columns) {
      if (c === speciesColumn || c.name === 'pos' || c.name === 'positions') continue;
      arrays[c.name] = c.type === 'R' ? new Float64Array(n * c.count) : c.type === 'S' ? [] : new Int32Array(n * c.count);
    }

    for (let a = 0; a < n; a++, i++) {
      const lineNo = i + 1;
      const failAt = (problem: string): never => {
        throw new StructureParseError(fileName, lineNo, problem);
      };
      const tokens = i < lines.length ? lines[i].trim().split(/\s+/).filter((t) => t.length > 0) : [];
      if (tokens.length === 0) {
        if (lines.slice(i).every((l) => l.trim() === '')) {
          failAt(`file ends after ${a} of ${n} atoms of frame ${frameNo}`);
        }
        failAt(`empty line where atom ${a + 1} of ${n} (frame ${frameNo}) should be`);
      }
      const enough = plain ? tokens.length >= totalColumns : tokens.length === totalColumns;
      if (!enough) {
        failAt(`expected ${totalColumns} columns (${describeColumns(columns, plain)}), got ${tokens.length}`);
      }
      let col = 0;
      for (const c of columns) {
        const cells = tokens.slice(col, col + c.count);
        col += c.count;
        if (c === speciesColumn) {
          const t = cells[0];
          const z = INTEGER_RE.test(t) ? Number(t) : atomicNumberOrNull(t);
          if (z === null || z < 1 || z > 118) failAt(`unknown element "${t}"`);
          numbers[a] = z as number;
          continue;
        }
        if (c.name === 'pos' || c.name === 'positions') {
          for (let d = 0; d < 3; d++) {
            const x = parseReal(cells[d]);
            if (!Number.isFinite(x)) failAt(`${AXIS[d]} coordinate "${cells[d]}" is not a finite number`);
            positions[3 * a + d] = x;
          }
          continue;
        }
        const target = arrays[c.name];
        if (c.type === 'S') {
          (target as string[]).push(cells.join(' '));
        } else if (c.type === 'R') {
          cells.forEach((t, d) => {
            const x = parseReal(t);
            if (Number.isNaN(x) && !/^[+-]?nan$/i.test(t)) failAt(`column "${c.name}" value "${t}" is not a number`);
            (target as Float64Array)[a * c.count + d] = x;
          });
        } else if (c.type === 'I') {
          cells.forEach((t, d) => {
            if (!INTEGER_RE.test(t)) failAt(`column "${c.name}" value "${t}" is not a whole number`);
            (target as Int32Array)[a * c.count + d] = Number(t);
          });
        } else {
          cells.forEach((t, d) => {
            const b = parseBool(t);
            if (b === null) failAt(`column "${c.name}" value "${t}" is not a logical (T or F)`);
            (target as Int32Array)[a * c.count + d] = b ? 1 : 0;
          });
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
  if (frames.length === 0) throw new StructureParseError(fileName, null, 'the file is empty (no atoms to read)');
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Writer

/** Shortest text that reads back as exactly the same float64. */
function exact(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e15 ? x.toFixed(1) : String(x);
}

function formatInfoValue(v: InfoValue): string {
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `"${v.map(String).join(' ')}"`;
  if (v.length > 0 && /^[^\s"'=\\{}[\]]+$/.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export interface ExtXyzWriteOptions {
  /**
   * Decimal places for per-atom real columns. Default: the shortest text that reads back as the
   * same float64, so a file written and read again gives identical numbers.
   */
  decimals?: number;
}

/**
 * Writes one or several structures as extXYZ text (ASE-compatible): Lattice and pbc for cells,
 * Properties with species, positions and every per-atom array of a matching length, then info keys,
 * charge and spin.
 */
export function writeExtXyz(frames: Structure | Structure[], options: ExtXyzWriteOptions = {}): string {
  const list = Array.isArray(frames) ? frames : [frames];
  const decimals = options.decimals;
  const out: string[] = [];
  for (const s of list) {
    const n = s.numbers.length;
    const columns: { name: string; type: 'S' | 'R' | 'I'; count: number; data: Float64Array | Int32Array | string[] }[] = [];
    for (const [name, data] of Object.entries(s.arrays ?? {})) {
      if (name === 'species' || name === 'pos' || name === 'positions') continue;
      if (Array.isArray(data)) {
        if (data.length === n) columns.push({ name, type: 'S', count: 1, data });
      } else if (n > 0 && data.length % n === 0 && data.length > 0) {
        columns.push({ name, type: data instanceof Float64Array ? 'R' : 'I', count: data.length / n, data });
      }
    }
    const props = ['species:S:1', 'pos:R:3', ...columns.map((c) => `${c.name}:${c.type}:${c.count}`)].join(':');
    const keys: string[] = [];
    if (s.cell) keys.push(`Lattice="${Array.from(s.cell, exact).join(' ')}"`);
    keys.push(`Properties=${props}`);
    for (const [k, v] of Object.entries(s.info ?? {})) {
      if (['lattice', 'properties', 'pbc', 'charge', 'spin'].includes(k.toLowerCase())) continue;
      keys.push(`${/^[A-Za-z_][\w.-]*$/.test(k) ? k : `"${k}"`}=${formatInfoValue(v)}`);
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
