import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellParameters } from '../../src/io/cell';
import { StructureParseError } from '../../src/io/errors';
import { readPdb } from '../../src/io/pdb';

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
    expect(parseError(text).message).toBe('box.pdb line 2: y coordinate "abc" (columns 39-46) is not a number');
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
    expect(parseError(bad).message).toContain('do not form a valid cell');
  });

  it('reports a file without atoms', () => {
    expect(parseError('HEADER    NOTHING\nEND\n').message).toBe('box.pdb: no ATOM or HETATM records (no atoms to read)');
  });
});
