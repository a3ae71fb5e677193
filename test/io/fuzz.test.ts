// Seeded fuzz test of the structure readers (issue 12): thousands of mutated XYZ, extXYZ and PDB inputs,
// seeded from the real-world corpus and our own samples. Every input must either give a sound structure
// (atoms, finite positions, known elements, a usable cell or none) or a StructureParseError, never
// another exception, and parse quickly; what parses must survive writing as extXYZ and reading back. The seed is fixed, so a failure reproduces; FUZZ_SEED and
// FUZZ_CASES override it for a longer independent run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellProblem } from '../../src/geometry/cell';
import { StructureParseError } from '../../src/io/errors';
import { readStructures } from '../../src/io/read';
import { readXyz, writeExtXyz } from '../../src/io/xyz';
import type { Structure } from '../../src/io/structure';
import { realworldPath } from './realworldDir';
import { rng } from '../helpers/systems';

const OWN_SAMPLES: { name: string; text: string }[] = [
  {
    name: 'own_ext.extxyz',
    text: [
      '3',
      'Lattice="5 0 0 0.3 5.5 0 0 0.2 6" Properties=species:S:1:pos:R:3:forces:R:3:tags:I:1:fixed:L:1:label:S:1 ' +
        'energy=-14.2 stress="1 2 3 4 5 6 7 8 9" note="a b" flags="T F" j="_JSON {\\"a\\": [1, 2]}" charge=0 spin=1 pbc="T T F"',
      'O 2.65 2.84 3.29 0.0 0.1 0.2 1 T O1',
      'H 1.89 2.25 3.29 0.3 0.4 0.5 2 F H1',
      'H 3.41 2.25 3.29 0.6 0.7 0.8 3 F H2',
    ].join('\n'),
  },
  { name: 'own_plain.xyz', text: '2\nhydrogen molecule\nH 0 0 0\nH 0 0 0.74\n2\n\nH 0 0 0\nH 0 0 0.75\n' },
  {
    name: 'own_models.pdb',
    text: [
      'CRYST1   20.000   21.000   22.000  80.00  95.00 100.00 P 1           1',
      'MODEL        1',
      'ATOM      1  N   GLY A   1       0.000   0.000   0.000  1.00 10.00           N',
      'ATOM      2  CA AGLY A   1       1.450   0.000   0.000  0.50 10.00           C',
      'ATOM      3  CA BGLY A   1       1.460   0.000   0.000  0.50 10.00           C',
      'HETATM    4 OH2  TIP3W   2       5.000   5.000   5.000  1.00 10.00           O',
      'ENDMDL',
      'CRYST1   30.000   21.000   22.000  90.00  90.00  90.00 P 1           1',
      'MODEL        2',
      'ATOM      1  N   GLY A   1       0.100   0.000   0.000  1.00 10.00           N',
      'ATOM      2  CA  GLY A   1       1.450   0.000   0.000  1.00 10.00           C',
      'ENDMDL',
      'END',
    ].join('\n'),
  },
];

function seeds(): { name: string; text: string }[] {
  const dir = realworldPath('.');
  const corpus = readdirSync(dir)
    .filter((f) => /\.(xyz|extxyz|pdb|ent)$/.test(f) && statSync(join(dir, f)).size < 16_000)
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
  return [...OWN_SAMPLES, ...corpus];
}

const HOSTILE_TOKENS = [
  '1e999', '-1e999', 'NaN', 'nan', 'inf', '-Infinity', '1e308', '1e-320', '99999999999999999999', '1000000000000',
  '0', '-0', '1D5', '0x10', '', ' ', '"', "'", '{', '[', '\\', '=', ':', '_JSON [1,', '_JSON {"a":', 'T', 'F',
  'é', '😀', '\u0000', '\u00a0', '\t', 'Properties=species:S:1:pos:R:3:f:R:1000000000',
  'Lattice="10 0 0 10 1e-6 0 0 0 10"', 'Lattice="1e200 1e200 0 1e200 1e200 0 0 0 1"', 'pbc="T T T"',
];
const PDB_LINES = [
  'MODEL        9', 'ENDMDL', 'END', 'CRYST1    0.000    0.000    0.000   0.00   0.00   0.00 P 1           1',
  'CRYST1   10.000   10.000   10.000  90.00  90.00 360.00 P 1           1',
  'CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1',
  'ATOM      1  O  CHOH A   1    1e999    0.000   0.000  1.00  0.00           O',
  'HETATM    1 CA    CA A   2       5.000   5.000   5.000',
];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const lines = text.split('\n');
  const li = Math.floor(r() * lines.length);
  switch (Math.floor(r() * 13)) {
    case 12: {
      // a random key=value pair on the comment line, from pieces that stress quoting and conversion
      const piece = () => pick(['a', 'b c', '"', "'", '\\', '=', '{', '}', '[', ']', ',', ' ', 'T', 'F', '1', '-2.5', 'é', '_JSON ', '[1, 2]', '""', 'nan']);
      const part = () => Array.from({ length: 1 + Math.floor(r() * 4) }, piece).join('');
      if (lines.length > 1) lines[1] = `${lines[1]} ${part()}=${pick(['', '"', "'", '{'])}${part()}${pick(['', '"', "'", '}'])}`;
      return lines.join('\n');
    }
    case 0: {
      // byte flip: one character replaced by a random code unit (ASCII mostly, sometimes beyond)
      const i = Math.floor(r() * text.length);
      const c = r() < 0.8 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0x2fff);
      return text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1);
    }
    case 1:
      return text.slice(0, Math.floor(r() * text.length)); // truncation
    case 2: {
      // a number replaced by a hostile token
      const nums = [...text.matchAll(/-?\d+\.?\d*([eE][+-]?\d+)?/g)];
      if (nums.length === 0) return text;
      const m = pick(nums);
      return text.slice(0, m.index) + pick(HOSTILE_TOKENS) + text.slice(m.index! + m[0].length);
    }
    case 3:
      lines.splice(li, 0, lines[li]); // duplicated line
      return lines.join('\n');
    case 4:
      lines.splice(li, 1); // deleted line
      return lines.join('\n');
    case 5:
      lines[0] = pick(['1000000000000', '99999999', '0', '-3', String(lines.length * 2), '4294967297']); // giant counts
      return lines.join('\n');
    case 6: {
      // random Properties
      const types = ['S', 'R', 'I', 'L', 'X', ''];
      const cols = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, k) =>
        `${pick(['species', 'pos', 'Z', 'forces', `c${k}`, '__proto__', ''])}:${pick(types)}:${pick(['1', '3', '0', '1000000000', '-1', 'x'])}`,
      );
      if (lines.length > 1) lines[1] = `Properties=${cols.join(':')} ${lines[1]}`;
      return lines.join('\n');
    }
    case 7: {
      // quotes, brackets and escapes inserted into a line
      const t = lines[li] ?? '';
      const i = Math.floor(r() * (t.length + 1));
      lines[li] = t.slice(0, i) + pick(['"', "'", '{', '[', ']', '}', '\\', '=', '"_JSON ', '\\"']) + t.slice(i);
      return lines.join('\n');
    }
    case 8: {
      // unicode inserted
      const i = Math.floor(r() * text.length);
      return text.slice(0, i) + pick(['é', '😀', '\u2028', '\u00a0', '\ufeff', '\r', '\u0000']) + text.slice(i);
    }
    case 9:
      lines.splice(li, 0, pick(PDB_LINES)); // PDB records in odd places
      return lines.join('\n');
    case 10:
      lines.splice(li, 0, pick(HOSTILE_TOKENS)); // a hostile line
      return lines.join('\n');
    default: {
      const a = Math.floor(r() * lines.length); // swapped lines
      [lines[li], lines[a]] = [lines[a], lines[li]];
      return lines.join('\n');
    }
  }
}

/** Why a returned structure is unsound, or null. */
function defect(frames: Structure[], textLength: number): string | null {
  if (frames.length === 0) return 'no frames';
  // Memory follows the text, never a header: every value needs at least a character and a separator.
  let bytes = 0;
  for (const s of frames) {
    bytes += s.numbers.byteLength + s.positions.byteLength;
    for (const v of Object.values(s.arrays ?? {})) bytes += ArrayBuffer.isView(v) ? v.byteLength : 8 * v.length;
  }
  if (bytes > 16 * textLength + 1024) return `${bytes} bytes of arrays from ${textLength} characters`;
  for (const [f, s] of frames.entries()) {
    const n = s.numbers.length;
    if (n === 0) return `frame ${f} is empty`;
    if (s.positions.length !== 3 * n) return `frame ${f}: ${s.positions.length} coordinates for ${n} atoms`;
    if (!s.positions.every(Number.isFinite)) return `frame ${f}: non-finite position`;
    if (!s.numbers.every((z) => z >= 1 && z <= 118)) return `frame ${f}: atomic number out of 1..118`;
    if (s.cell !== null && cellProblem(s.cell) !== null) return `frame ${f}: unusable cell (${cellProblem(s.cell)})`;
    if (s.cell === null && s.pbc.some((p) => p)) return `frame ${f}: periodic without a cell`;
    if (!Number.isSafeInteger(s.charge) || !Number.isSafeInteger(s.spin) || s.spin < 0) return `frame ${f}: charge/spin`;
    for (const [k, v] of Object.entries(s.arrays ?? {})) {
      if (v.length % n !== 0) return `frame ${f}: array ${k} of length ${v.length} for ${n} atoms`;
      if (v instanceof Float64Array && !v.every(Number.isFinite)) return `frame ${f}: array ${k} not finite`;
    }
    const infoNumbers = JSON.stringify(s.info ?? {}, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? '__NONFINITE__' : x));
    if (infoNumbers.includes('__NONFINITE__')) return `frame ${f}: non-finite info value`;
  }
  return null;
}

/** What writing a parsed structure as extXYZ and reading it back loses, or null. */
function roundTripLoss(input: Structure[]): string | null {
  // extXYZ atom lines are split at whitespace, so the writer refuses per-atom strings that are empty or
  // hold spaces (PDB residue names can: columns 18-21 of "N [1"); those arrays are left out here, and
  // the writer's refusal of them is tested in xyz.test.ts.
  const writable = (v: unknown) => !Array.isArray(v) || v.every((t) => typeof t === 'string' && /^\S+$/.test(t));
  const frames = input.map((s) => ({ ...s, arrays: Object.fromEntries(Object.entries(s.arrays ?? {}).filter(([, v]) => writable(v))) }));
  let back: Structure[];
  try {
    back = readXyz(writeExtXyz(frames), 'round-trip.extxyz');
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  if (back.length !== frames.length) return `${back.length} frames back for ${frames.length}`;
  for (const [f, s] of frames.entries()) {
    const b = back[f];
    if (b.numbers.join() !== s.numbers.join()) return `frame ${f}: atomic numbers`;
    if (b.positions.join() !== s.positions.join()) return `frame ${f}: positions`;
    if ((b.cell ?? []).join() !== (s.cell ?? []).join() || b.pbc.join() !== s.pbc.join()) return `frame ${f}: cell or pbc`;
    if (b.charge !== s.charge || b.spin !== s.spin) return `frame ${f}: charge or spin`;
    if (JSON.stringify(b.info ?? {}) !== JSON.stringify(s.info ?? {})) {
      return `frame ${f}: info ${JSON.stringify(s.info).slice(0, 200)} came back as ${JSON.stringify(b.info).slice(0, 200)}`;
    }
    for (const [k, v] of Object.entries(s.arrays ?? {})) {
      const w = (b.arrays ?? {})[k];
      if (w === undefined || Array.from(w as ArrayLike<unknown>).join('\u0000') !== Array.from(v as ArrayLike<unknown>).join('\u0000')) {
        return `frame ${f}: array ${k}`;
      }
    }
  }
  return null;
}

describe('structure readers under fuzzing', () => {
  it('give a sound structure or a StructureParseError, quickly, for thousands of mutated files', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261202);
    const cases = Number(process.env.FUZZ_CASES ?? 5000);
    const r = rng(seed);
    const pool = seeds();
    const failures: string[] = [];
    let slowest = 0;
    let parsed = 0;
    let refused = 0;
    for (let k = 0; k < cases && failures.length < 10; k++) {
      const base = pool[Math.floor(r() * pool.length)];
      let text = base.text;
      const rounds = 1 + Math.floor(r() * 3);
      for (let m = 0; m < rounds; m++) text = mutate(text, r);
      // Sometimes no extension, so the format is detected from the content.
      const name = r() < 0.2 ? 'dropped-file' : base.name;
      const t0 = performance.now();
      try {
        const frames = readStructures(text, name);
        const bad = defect(frames, text.length);
        if (bad) failures.push(`case ${k} (${base.name}): returned a defective structure: ${bad}\n${JSON.stringify(text.slice(0, 300))}`);
        const lost = roundTripLoss(frames);
        if (lost) failures.push(`case ${k} (${base.name}): extXYZ write and read back: ${lost}\n${JSON.stringify(text.slice(0, 300))}`);
        parsed++;
      } catch (e) {
        if (!(e instanceof StructureParseError)) {
          failures.push(`case ${k} (${base.name}): ${(e as Error).name}: ${(e as Error).message}\n${JSON.stringify(text.slice(0, 300))}`);
        } else {
          if (e.problem.length === 0 || e.fileName !== name) failures.push(`case ${k}: error without problem or file name`);
          refused++;
        }
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      if (ms > 2000) failures.push(`case ${k} (${base.name}): ${ms.toFixed(0)} ms\n${JSON.stringify(text.slice(0, 300))}`);
    }
    console.log(`fuzz seed ${seed}: ${cases} cases, ${parsed} parsed, ${refused} refused, slowest ${slowest.toFixed(1)} ms`);
    expect(failures.join('\n\n')).toBe('');
    // The mutations must exercise both outcomes, or the test proves nothing.
    expect(parsed).toBeGreaterThan(cases / 10);
    expect(refused).toBeGreaterThan(cases / 10);
  }, 120_000);
});
