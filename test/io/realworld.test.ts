// Our structure readers against ASE 3.22 on the real-world corpus (../shared/data/realworld-structures:
// files from 11 public projects, MANIFEST.tsv names each source). Every file must agree (frame count,
// atomic numbers, positions to 1e-6 Å, cell, pbc, extXYZ info and per-atom arrays), except the files in
// KNOWN_DIFFERENCES below, each with its reason and a check of what we do instead. ASE runs once for all
// files (test/io/ase_read_corpus.py).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StructureParseError } from '../../src/io/errors';
import { readStructures } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import { realworldPath } from './realworldDir';

interface AseFrame {
  numbers: number[];
  positions: (number | string)[];
  cell: number[];
  pbc: boolean[];
  info: Record<string, unknown>;
  arrays: Record<string, unknown[]>;
}
type AseResult = { frames: AseFrame[] } | { error: string };
type Ours = { frames: Structure[] } | { error: StructureParseError };

const TOL = 1e-6;

/** ASE's names for the per-atom arrays we keep under extXYZ's names. */
const ASE_ARRAY_NAME: Record<string, string> = { charge: 'initial_charges' };

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= TOL * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Same value up to float tolerance and number/boolean lists; ASE's 1x1 arrays and scalars alike. */
function sameValue(ours: unknown, ase: unknown): boolean {
  if (typeof ours === 'number' && typeof ase === 'number') return close(ours, ase);
  if (ArrayBuffer.isView(ours)) return sameValue(Array.from(ours as unknown as ArrayLike<number>), ase);
  if (Array.isArray(ours) && Array.isArray(ase)) {
    const flat = (ase as unknown[]).flat(Infinity);
    const mine = (ours as unknown[]).flat(Infinity);
    return mine.length === flat.length && mine.every((v, i) => sameValue(v, flat[i]));
  }
  if (ours !== null && ase !== null && typeof ours === 'object' && typeof ase === 'object') {
    const ko = Object.keys(ours as object).sort();
    const ka = Object.keys(ase as object).sort();
    return ko.join('\u0000') === ka.join('\u0000') && ko.every((k) => sameValue((ours as Record<string, unknown>)[k], (ase as Record<string, unknown>)[k]));
  }
  return ours === ase;
}

/** Every way our frames differ from ASE's, as readable lines (empty when they agree). */
function differences(ours: Structure[], ase: AseFrame[]): string[] {
  const out: string[] = [];
  if (ours.length !== ase.length) return [`frame count: ours ${ours.length}, ASE ${ase.length}`];
  ours.forEach((s, f) => {
    const a = ase[f];
    const at = `frame ${f}`;
    if (!sameValue(Array.from(s.numbers), a.numbers)) {
      out.push(`${at}: atomic numbers differ (ours ${s.numbers.length} atoms, ASE ${a.numbers.length})`);
      return;
    }
    const bad = Array.from(s.positions).findIndex((x, i) => !close(x, Number(a.positions[i])));
    if (bad >= 0) out.push(`${at}: position ${bad} ours ${s.positions[bad]}, ASE ${a.positions[bad]}`);
    const cell = s.cell ? Array.from(s.cell) : new Array(9).fill(0);
    if (!sameValue(cell, a.cell)) out.push(`${at}: cell ours [${cell.join(' ')}], ASE [${a.cell.join(' ')}]`);
    if (!sameValue(s.pbc, a.pbc)) out.push(`${at}: pbc ours ${s.pbc}, ASE ${a.pbc}`);
    // extXYZ metadata: ASE keeps charge and spin in info; we move them to fields.
    const info = { ...(s.info ?? {}) } as Record<string, unknown>;
    const aseInfo = { ...a.info };
    for (const k of ['charge', 'spin'] as const) {
      if (k in aseInfo) {
        if (!sameValue(s[k], aseInfo[k])) out.push(`${at}: ${k} ours ${s[k]}, ASE ${String(aseInfo[k])}`);
        delete aseInfo[k];
      }
    }
    // Policy: a comment line without "=" is kept whole as info.comment; ASE makes each word a key set to True.
    const freeText = typeof info.comment === 'string' && !(info.comment as string).includes('=') &&
      Object.values(aseInfo).every((v) => v === true);
    if (freeText) {
      delete info.comment;
      for (const k of Object.keys(aseInfo)) delete aseInfo[k];
    }
    if (!('arrays' in s) || !('residuenames' in (s.arrays ?? {}))) {
      for (const k of new Set([...Object.keys(info), ...Object.keys(aseInfo)])) {
        if (!sameValue(info[k], aseInfo[k])) out.push(`${at}: info ${k} ours ${JSON.stringify(info[k])?.slice(0, 80)}, ASE ${JSON.stringify(aseInfo[k])?.slice(0, 80)}`);
      }
    }
    for (const [name, values] of Object.entries(s.arrays ?? {})) {
      const aseName = ASE_ARRAY_NAME[name] ?? name;
      // A Z column beside species becomes ASE's atomic numbers (compared above), not an array.
      if (name === 'Z' && !(aseName in a.arrays) && sameValue(values, a.numbers)) continue;
      // ASE fault: its PDB reader does not reset the residue-number list between models, so from the second
      // model on the list is too long and ASE drops the array (with a warning).
      if (name === 'residuenumbers' && f > 0 && !(aseName in a.arrays)) continue;
      if (!(aseName in a.arrays)) {
        out.push(`${at}: array ${name} missing in ASE`);
        continue;
      }
      const mine = ArrayBuffer.isView(values) ? Array.from(values) : (values as unknown[]).map((v) => (typeof v === 'string' ? v.trim() : v));
      const theirs = (a.arrays[aseName] as unknown[]).flat(Infinity).map((v) => (typeof v === 'string' ? v.trim() : v));
      const mineBool = mine.map((v) => (typeof theirs[0] === 'boolean' ? v === 1 : v));
      if (!sameValue(mineBool, theirs)) out.push(`${at}: array ${name} differs (ours ${JSON.stringify(mine.slice(0, 4))}, ASE ${JSON.stringify(theirs.slice(0, 4))})`);
    }
  });
  return out;
}

function readOurs(name: string): Ours {
  const text = readFileSync(realworldPath(name), 'utf8');
  try {
    return { frames: readStructures(text, name) };
  } catch (e) {
    if (!(e instanceof StructureParseError)) throw e;
    return { error: e };
  }
}

interface Manifest {
  file: string;
  format: string;
  source: string;
}

function manifest(): Manifest[] {
  const rows = readFileSync(realworldPath('MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((r) => {
    const [file, repo, path, , format] = r.split('\t');
    return { file, format, source: `${repo}/${path}` };
  });
}

function readAse(files: Manifest[]): Record<string, AseResult> {
  const args = files.map((m) => `${m.format === 'pdb' ? 'proteindatabank' : 'extxyz'}:${realworldPath(m.file)}`);
  const json = execFileSync('/usr/bin/python3', [join(__dirname, 'ase_read_corpus.py'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const byPath = JSON.parse(json) as Record<string, AseResult>;
  return Object.fromEntries(files.map((m) => [m.file, byPath[realworldPath(m.file)]]));
}

/** ASE writes an empty frame for an END record that follows the last ENDMDL. */
const dropEmptyLastFrame = (frames: AseFrame[]) =>
  frames.length > 1 && frames[frames.length - 1].numbers.length === 0 ? frames.slice(0, -1) : frames;

interface KnownDifference {
  /** Why we differ from ASE, and who is right. */
  reason: string;
  /** Undo an ASE fault first, so the rest of the file is still compared. */
  aseFix?: (frames: AseFrame[]) => AseFrame[];
  /** The remaining difference lines; each must match one of these and each of these must match one. */
  expected: RegExp[];
}

const BOTH_REFUSE = /^ours: .*; ASE: (?!ok)/;
const MULTI_MODEL = 'ASE writes an extra empty frame for the END after the last ENDMDL (dropped before comparing)';

/** Every file where our readers and ASE 3.22 disagree, and why. Everything else must agree exactly. */
const KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  'ase__his.pdb': {
    reason: 'ASE guesses elements from atom names by the longest symbol (CA → calcium, ND1 → neodymium, CD2 → cadmium); we follow the PDB column convention (" CA " is carbon)',
    expected: [/^frame 0: atomic numbers differ \(ours 11 atoms, ASE 11\)$/],
  },
  'mda__1grm_single.pdb': {
    reason: 'ASE reads " CA " as calcium (see ase__his.pdb); 1 Å placeholder CRYST1 means no box (policy, as MDAnalysis; ASE makes a 1 Å box)',
    expected: [/^frame 0: atomic numbers differ/],
  },
  'openmm__methanol-box.pdb': {
    reason: 'ASE reads the hydroxyl hydrogen "HO1" as holmium; no element columns, so the PDB name convention applies (H)',
    expected: [/^frame 0: atomic numbers differ \(ours 750 atoms, ASE 750\)$/],
  },
  'mda__4E43.pdb': {
    reason: 'alternate locations: we keep the first listed per residue (OpenMM policy); ASE keeps every location as an extra atom on top of the first',
    expected: [/^frame 0: atomic numbers differ \(ours 1843 atoms, ASE 1877\)$/],
  },
  'openmm__altlocs.pdb': {
    reason: 'alternate locations (see mda__4E43.pdb): residue 25 is ILE (A, B) or LEU (C); we keep ILE A, ASE all 57 records',
    expected: [/^frame 0: atomic numbers differ \(ours 19 atoms, ASE 57\)$/],
  },
  'openmm__altlocs2.pdb': {
    reason: 'alternate locations (see mda__4E43.pdb)',
    expected: [/^frame 0: atomic numbers differ \(ours 19 atoms, ASE 22\)$/],
  },
  'openmm__1T2Y.pdb': {
    reason: 'the 1 Å CRYST1 is the PDB placeholder for "no crystal cell": no box (policy, as MDAnalysis); ASE makes a 1 Å periodic box',
    expected: [/^frame 0: cell ours \[0 0 0 0 0 0 0 0 0\], ASE \[1 0 0 0 1 0 0 0 1\]$/, /^frame 0: pbc ours false,false,false, ASE true,true,true$/],
  },
  'mda__namd_cgenff.pdb': {
    reason: 'CRYST1 0 0 0 means no box (as OpenMM reads it); ASE makes a zero cell with pbc on',
    expected: [/^frame 0: pbc ours false,false,false, ASE true,true,true$/],
  },
  'mda__cryst_then_model.pdb': {
    reason: `${MULTI_MODEL}; boxes per model agree (80, 70, 60 Å)`,
    aseFix: dropEmptyLastFrame,
    expected: [],
  },
  'mda__model_then_cryst.pdb': {
    reason: `${MULTI_MODEL}; ASE gives each model the CRYST1 of the model before (none, 80, 70 Å): a CRYST1 after ENDMDL belongs to its model (MDAnalysis: 80, 70, 60 Å)`,
    aseFix: dropEmptyLastFrame,
    expected: [/^frame 0: cell ours \[80 0 0 0 80\.017 0 0 0 80\.017\], ASE \[0 0 0 0 0 0 0 0 0\]$/, /^frame 0: pbc ours true,true,true, ASE false,false,false$/, /^frame [12]: cell ours \[[67]0 0 0 .*, ASE \[[78]0 0 0 /],
  },
  'mda__WIN_nmr_neopetrosiamide.pdb': {
    reason: `${MULTI_MODEL}; its 1 Å placeholder CRYST1 is no box for every model (ASE: 1 Å box for the first model only)`,
    aseFix: dropEmptyLastFrame,
    expected: [/^frame 0: cell ours \[0 0 0 0 0 0 0 0 0\], ASE \[1 0 0 0 1 0 0 0 1\]$/, /^frame 0: pbc ours false,false,false, ASE true,true,true$/],
  },
  'mdtraj__1vii_3frames.pdb': {
    reason: `${MULTI_MODEL}; 1 Å placeholder CRYST1 is no box (ASE: a 1 Å box for the first model only)`,
    aseFix: dropEmptyLastFrame,
    expected: [/^frame 0: cell ours \[0 0 0 0 0 0 0 0 0\], ASE \[1 0 0 0 1 0 0 0 1\]$/, /^frame 0: pbc ours false,false,false, ASE true,true,true$/],
  },
  'mda__varying_occ_tmp.pdb': {
    reason: 'MODEL 2 has no ENDMDL: a MODEL record starts a new frame (3 frames of 2 atoms, as MDAnalysis), ASE merges models 2 and 3 into one frame of 4 and adds an empty one; the one CRYST1 is every model\'s box (ASE: first model only)',
    expected: [/^frame 1: atomic numbers differ \(ours 2 atoms, ASE 4\)$/, /^frame 2: atomic numbers differ \(ours 2 atoms, ASE 0\)$/],
  },
  'ipi__init.pdb': { reason: 'deuterium written as element "D": neither reader knows it (ASE KeyError, we StructureParseError)', expected: [BOTH_REFUSE] },
  'openmm__tip5p.pdb': { reason: 'TIP5P virtual sites (element "EP"): not atoms; both refuse', expected: [BOTH_REFUSE] },
  'mda__RANDOM_WALK_TOPO.pdb': { reason: 'dummy atoms of element "X" (and an all-zero CRYST1 that crashes ASE); both refuse', expected: [BOTH_REFUSE] },
  'mda__five.xyz': { reason: 'atoms named "A" (no element); both refuse', expected: [BOTH_REFUSE] },
  'mda__mini.xyz': { reason: 'atoms named "A" (no element); both refuse', expected: [BOTH_REFUSE] },
  'openmm__alanine-dipeptide-implicit.xyz': { reason: 'a Tinker .xyz (atom index before the symbol), not XYZ; both refuse', expected: [BOTH_REFUSE] },
};

describe('readers against ASE on the real-world corpus', () => {
  it('agree on every file but the listed differences', () => {
    const files = manifest();
    expect(files.length).toBeGreaterThanOrEqual(79);
    const ase = readAse(files);
    const unexpected: string[] = [];
    for (const m of files) {
      const ours = readOurs(m.file);
      const theirs = ase[m.file];
      const known = KNOWN_DIFFERENCES[m.file];
      let diff: string[];
      if ('error' in ours || 'error' in theirs) {
        diff = [`ours: ${'error' in ours ? ours.error.message : 'ok'}; ASE: ${'error' in theirs ? theirs.error : 'ok'}`];
      } else {
        diff = differences(ours.frames, known?.aseFix ? known.aseFix(theirs.frames) : theirs.frames);
      }
      const expected = known?.expected ?? [];
      const unmatched = diff.filter((d) => !expected.some((re) => re.test(d)));
      const unseen = expected.filter((re) => !diff.some((d) => re.test(d)));
      if (unmatched.length > 0 || unseen.length > 0) {
        unexpected.push(
          `${m.file} (${m.source}):\n  ${[...unmatched.slice(0, 6), ...unseen.map((re) => `expected but not found: ${re}`)].join('\n  ')}`,
        );
      }
    }
    expect(unexpected.join('\n')).toBe('');
    // The list names only corpus files.
    expect(Object.keys(KNOWN_DIFFERENCES).filter((f) => !files.some((m) => m.file === f))).toEqual([]);
  }, 120_000);

  it('reads the per-model boxes of multi-model PDBs as MDAnalysis does', () => {
    for (const name of ['mda__cryst_then_model.pdb', 'mda__model_then_cryst.pdb']) {
      const ours = readOurs(name);
      expect('frames' in ours && ours.frames.map((f) => f.cell![0])).toEqual([80, 70, 60]);
    }
  });
});
