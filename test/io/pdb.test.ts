import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellParameters } from '../../src/geometry/cell';
import { StructureParseError } from '../../src/io/errors';
import { readPdb } from '../../src/io/pdb';
import { realworldPath } from './realworldDir';

const dataPath = (name: string) => join(__dirname, 'data', name);
const data = (name: string) => readFileSync(dataPath(name), 'utf8');

function parseError(text: string, fileName = 'box.pdb'): StructureParseError {
  try {
    readPdb(text, fileName);
  } catch (e) {
    expect(e).toBeInstanceOf(StructureParseError);
    return e as StructureParseError;
  }
  throw new Error('expected a StructureParseError');
}

const hetatm = (name: string, x: string, y: string, z: string, element: string) =>
  `HETATM    1 ${name.padEnd(4)} HOH W   1    ${x.padStart(8)}${y.padStart(8)}${z.padStart(8)}  1.00  0.00          ${element.padStart(2)}`;

describe('readPdb on real-looking files', () => {
  it('reads CRYST1 and HETATM waters with element columns', () => {
    const frames = readPdb(data('water_hetatm.pdb'), 'water_hetatm.pdb');
    expect(frames).toHaveLength(1);
    const s = frames[0];
    expect(Array.from(s.numbers)).toEqual([8, 1, 1, 8, 1, 1, 8, 1, 1, 11]);
    expect(Array.from(s.positions.slice(3, 6))).toEqual([1.757, 2.586, 3.0]);
    expect(Array.from(s.cell!)).toEqual([12.42, 0, 0, 0, 12.42, 0, 0, 0, 12.42]);
    expect(s.pbc).toEqual([true, true, true]);
    expect([s.charge, s.spin]).toEqual([0, 1]);
    expect((s.arrays!.residuenames as string[])[9]).toBe('NA');
    expect(Array.from(s.arrays!.residuenumbers as Int32Array)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
  });

  it('reads MODEL frames, guesses elements from atom names, keeps altLoc A only, triclinic CRYST1', () => {
    const frames = readPdb(data('peptide_models.pdb'), 'peptide_models.pdb');
    expect(frames).toHaveLength(2);
    // N, CA (carbon alpha), C, O (altLoc B dropped), HA2, 1HA, CA (calcium), ZN
    expect(Array.from(frames[0].numbers)).toEqual([7, 6, 6, 8, 1, 1, 20, 30]);
    expect(frames[1].positions[0]).toBeCloseTo(0.01, 12);
    const [a, b, c, alpha, beta, gamma] = cellParameters(frames[0].cell!);
    expect([a, b, c]).toEqual([20, 21, 22].map((v) => expect.closeTo(v, 12)));
    expect([alpha, beta, gamma]).toEqual([80, 95, 100].map((v) => expect.closeTo(v, 10)));
  });

  it('agrees with ASE on atoms, positions and cell', () => {
    const script = [
      'import sys, json, ase.io',
      'from ase.geometry import cellpar_to_cell',
      'a = ase.io.read(sys.argv[1])',
      'print(json.dumps({"numbers": a.numbers.tolist(), "pos": a.positions.ravel().tolist(),',
      '  "cell": a.cell.array.ravel().tolist(), "pbc": a.pbc.tolist(),',
      '  "tri": cellpar_to_cell([20, 21, 22, 80, 95, 100]).ravel().tolist()}))',
    ].join('\n');
    const ase = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, dataPath('water_hetatm.pdb')], { encoding: 'utf8' }));
    const [s] = readPdb(data('water_hetatm.pdb'), 'water_hetatm.pdb');
    expect(Array.from(s.numbers)).toEqual(ase.numbers);
    expect(Array.from(s.positions)).toEqual(ase.pos);
    expect(Array.from(s.cell!)).toEqual(ase.cell);
    expect(s.pbc).toEqual(ase.pbc);
    const [p] = readPdb(data('peptide_models.pdb'), 'peptide_models.pdb');
    Array.from(p.cell!).forEach((v, i) => expect(v).toBeCloseTo(ase.tri[i], 12));
  });

  it('treats the 1 Å placeholder CRYST1 as no cell', () => {
    const text = ['CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1', hetatm(' O', '0.0', '0.0', '0.0', 'O')].join('\n');
    const [s] = readPdb(text, 'mol.pdb');
    expect(s.cell).toBeNull();
    expect(s.pbc).toEqual([false, false, false]);
  });
});

describe('readPdb on malformed files', () => {
  it('reports a bad coordinate with its columns', () => {
    const text = ['REMARK', hetatm(' O', '1.0', 'abc', '2.0', 'O')].join('\n');
    expect(parseError(text).message).toBe('box.pdb line 2: y coordinate "abc" (columns 39-46) is not a finite number');
  });

  it('reports an unknown element in columns 77-78', () => {
    expect(parseError(hetatm(' X', '1.0', '1.0', '2.0', 'Xx')).message).toBe(
      'box.pdb line 1: unknown element "Xx" (columns 77-78)',
    );
  });

  it('reports an atom whose element cannot be told', () => {
    const line = hetatm(' Q1', '1.0', '1.0', '2.0', '').trimEnd();
    expect(parseError(line).message).toContain('cannot tell the element of atom "Q1"');
  });

  it('reports a record too short to hold coordinates', () => {
    expect(parseError('ATOM      1  O   HOH     1       1.000   2.000').message).toBe(
      'box.pdb line 1: ATOM record is too short (46 characters): x, y, z need columns 31-54',
    );
  });

  it('reports a bad CRYST1', () => {
    const text = ['CRYST1   12.420   12.420  90.00  90.00  90.00', hetatm(' O', '0.0', '0.0', '0.0', 'O')].join('\n');
    expect(parseError(text).message).toContain('box.pdb line 1: CRYST1 needs six numbers');
    const bad = ['CRYST1   10.000   10.000   10.000  10.00  10.00 170.00 P 1', hetatm(' O', '0.0', '0.0', '0.0', 'O')].join('\n');
    expect(parseError(bad).message).toBe(
      'box.pdb line 1: CRYST1 angles α = 10°, β = 10°, γ = 170° do not form a cell (a = 10, b = 10, c = 10 Å)',
    );
  });

  it('reports a file without atoms', () => {
    expect(parseError('HEADER    NOTHING\nEND\n').message).toBe('box.pdb: no ATOM or HETATM records (no atoms to read)');
  });
});

describe('readPdb policies and hostile input (issue 12)', () => {
  const atom = (x: string) => `ATOM      1  O   HOH A   1    ${x.padStart(8)}   0.000   0.000  1.00  0.00           O`;

  it('rejects non-finite coordinates', () => {
    // Before: 1e999 matched the number pattern and became Infinity.
    expect(parseError(atom('1e999')).message).toBe('box.pdb line 1: x coordinate "1e999" (columns 31-38) is not a finite number');
  });

  it('rejects CRYST1 angles outside (0°, 180°), γ = 360° included, and degenerate cells', () => {
    const cryst = (angles: string) => `CRYST1   10.000   10.000   10.000${angles} P 1           1\n${atom('0.000')}`;
    // Before: γ = 360° gave b ∥ a, a cell with volume ~1e-14 Å³, accepted.
    expect(parseError(cryst('  90.00  90.00 360.00')).message).toBe(
      'box.pdb line 1: CRYST1 angle γ = 360° must lie strictly between 0° and 180°',
    );
    expect(parseError(cryst('   0.00  90.00  90.00')).problem).toBe('CRYST1 angle α = 0° must lie strictly between 0° and 180°');
    expect(parseError(cryst('  90.00  90.00 180.00')).problem).toBe('CRYST1 angle γ = 180° must lie strictly between 0° and 180°');
    expect(parseError(`CRYST1   10.000   1e999   10.000  90.00  90.00  90.00\n${atom('0.000')}`).problem).toBe(
      'CRYST1 b = "1e999" is not a finite number',
    );
    expect(parseError(`CRYST1   10.000  -10.000   10.000  90.00  90.00  90.00\n${atom('0.000')}`).problem).toContain('cannot be negative');
  });

  it('reads an all-zero CRYST1 (and any zero length) as no box, as OpenMM does', () => {
    for (const cryst of [
      'CRYST1    0.000    0.000    0.000   0.00   0.00   0.00 P 1           1',
      'CRYST1    0.000    0.000    0.000  90.00  90.00  90.00 P 1           1',
    ]) {
      const [s] = readPdb(`${cryst}\n${atom('1.000')}`, 'zero.pdb');
      expect(s.cell).toBeNull();
      expect(s.pbc).toEqual([false, false, false]);
    }
    // The same for the corpus file that has one (MDAnalysis's namd_cgenff.pdb; ASE makes a zero cell with pbc).
    const [namd] = readPdb(readFileSync(realworldPath('mda__namd_cgenff.pdb'), 'utf8'), 'namd_cgenff.pdb');
    expect(namd.cell).toBeNull();
  });

  it('gives each MODEL the CRYST1 that belongs to it, before or after the model (MDAnalysis test files)', () => {
    for (const name of ['mda__cryst_then_model.pdb', 'mda__model_then_cryst.pdb']) {
      const frames = readPdb(readFileSync(realworldPath(name), 'utf8'), name);
      // Before: every model got the last CRYST1 of the file (60 Å).
      expect(frames.map((f) => f.cell![0])).toEqual([80, 70, 60]);
      expect(frames.map((f) => f.positions[0])).toEqual([10, 20, 30]);
    }
  });

  it('uses one CRYST1 for every model, and the last one before a model ends when counts differ', () => {
    const model = (k: number) => `MODEL     ${k}\n${atom(`${k}.000`)}\nENDMDL`;
    const cryst = (a: number) => `CRYST1${a.toFixed(3).padStart(9)}   10.000   10.000  90.00  90.00  90.00 P 1           1`;
    const one = readPdb([cryst(20), model(1), model(2), model(3)].join('\n'), 'm.pdb');
    expect(one.map((f) => f.cell![0])).toEqual([20, 20, 20]);
    const two = readPdb([model(1), cryst(20), model(2), model(3), cryst(30)].join('\n'), 'm.pdb');
    expect(two.map((f) => f.cell![0])).toEqual([20, 20, 20]);
    const late = readPdb([cryst(20), model(1), model(2), cryst(30), model(3)].join('\n'), 'm.pdb');
    expect(late.map((f) => f.cell![0])).toEqual([20, 20, 30]);
  });

  it('reads 4-character residue names from columns 18-21', () => {
    const text = 'ATOM      1  OH2 TIP3W   1       1.000   2.000   3.000  1.00  0.00      WT1  O';
    // Before: columns 18-20 only, "TIP".
    expect(readPdb(text, 'tip3.pdb')[0].arrays!.residuenames).toEqual(['TIP3']);
    const [popc] = readPdb(readFileSync(realworldPath('mda__sameresid_diffresname.pdb'), 'utf8'), 'popc.pdb');
    expect(popc.arrays!.residuenames).toContain('POPC');
  });

  it('keeps the first listed alternate location of each atom (OpenMM test files)', () => {
    // altlocs.pdb: residue 25 is ILE (altLocs A and B, 19 atoms each) or LEU (C); altlocs2.pdb: 16 plain
    // atoms and 3 with A and B.
    const [all] = readPdb(readFileSync(realworldPath('openmm__altlocs.pdb'), 'utf8'), 'altlocs.pdb');
    expect(all.numbers.length).toBe(19);
    const [mixed] = readPdb(readFileSync(realworldPath('openmm__altlocs2.pdb'), 'utf8'), 'altlocs2.pdb');
    expect(mixed.numbers.length).toBe(19);
    // The HG13 hydrogens differ between A and B: the A position (listed first) is kept.
    const names = mixed.arrays!.atomtypes as string[];
    const h = names.indexOf('HG13');
    expect(Array.from(mixed.positions.slice(3 * h, 3 * h + 3))).toEqual([1.243, 15.658, -0.968]);
    // Only B and C listed: B is first, so B is kept (the old "A only" rule dropped the atom).
    const bc = [
      'ATOM      1  O  BHOH A   1       1.000   0.000   0.000  0.50  0.00           O',
      'ATOM      2  O  CHOH A   1       2.000   0.000   0.000  0.50  0.00           O',
      'ATOM      3  O   HOH A   2       3.000   0.000   0.000  1.00  0.00           O',
    ].join('\n');
    expect(Array.from(readPdb(bc, 'bc.pdb')[0].positions)).toEqual([1, 0, 0, 3, 0, 0]);
  });
});
