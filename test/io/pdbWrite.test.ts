// PDB export read back by MDAnalysis, mdtraj, ASE and our own reader: positions within 1e-3 Å (the format's
// 0.001 Å columns), the CRYST1 cell, elements; fixed-column layout and refusals.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellFromParameters, cellParameters } from '../../src/geometry/cell';
import { CHEMICAL_SYMBOLS } from '../../src/io/elements';
import { readPdb } from '../../src/io/pdb';
import { pdbAtomNames, writePdb } from '../../src/io/pdbWrite';
import type { Structure } from '../../src/io/structure';
import { StructureWriteError } from '../../src/io/writeErrors';
import { readBack } from '../helpers/readBack';

const dir = mkdtempSync(join(tmpdir(), 'pdbw-'));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function checkAll(name: string, s: Structure, wantPositions: Float64Array) {
  const path = join(dir, `${name}.pdb`);
  const text = writePdb(s, `${name} from scaip-web`);
  writeFileSync(path, text);
  const symbols = Array.from(s.numbers, (z) => CHEMICAL_SYMBOLS[z]);
  const r = readBack(path);
  const want = s.cell ? cellParameters(s.cell) : null;
  const checkCell = (got: number[] | null) => {
    if (!want) { expect(got).toBeNull(); return; }
    expect(maxDiff(got!.slice(0, 3), want.slice(0, 3))).toBeLessThan(1e-3); // CRYST1: 0.001 Å
    expect(maxDiff(got!.slice(3), want.slice(3))).toBeLessThan(0.006); // CRYST1: 0.01°
  };
  for (const tool of [r.mdanalysis, r.mdtraj]) {
    expect(tool.frames).toBe(1);
    expect(tool.elements.map((e) => e.toLowerCase())).toEqual(symbols.map((e) => e.toLowerCase()));
    expect(maxDiff(tool.positions[0], wantPositions)).toBeLessThan(1e-3);
    checkCell(tool.cells[0]);
  }
  expect(r.ase!.numbers).toEqual(Array.from(s.numbers));
  expect(maxDiff(r.ase!.positions, wantPositions)).toBeLessThan(1e-3);
  checkCell(r.ase!.cell);
  // Our own reader too.
  const [own] = readPdb(text, `${name}.pdb`);
  expect(Array.from(own.numbers)).toEqual(Array.from(s.numbers));
  expect(maxDiff(own.positions, wantPositions)).toBeLessThan(1e-3);
  if (want) checkCell(cellParameters(own.cell!));
  else expect(own.cell).toBeNull();
  return text;
}

describe('PDB writer', () => {
  it('writes a molecule that MDAnalysis, mdtraj, ASE and our reader read back', () => {
    // Chloromethanol-like mix: one- and two-letter elements, more than nine hydrogens for two-digit names.
    const numbers = Int32Array.from([6, 17, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 26]);
    const positions = Float64Array.from({ length: 3 * numbers.length }, (_x, i) => 1.37 * Math.sin(0.9 * i) + 0.25 * i - 3.1234567);
    const s: Structure = { numbers, positions, cell: null, pbc: [false, false, false], charge: 0, spin: 1 };
    const text = checkAll('molecule', s, positions);
    expect(text).not.toMatch(/CRYST1/);
    // A cell that only frames a molecule (no periodic direction) is not written as a periodic box.
    expect(writePdb({ ...s, cell: Float64Array.from([30, 0, 0, 0, 30, 0, 0, 0, 30]) })).not.toMatch(/CRYST1/);
  });

  it('writes a triclinic periodic cell as CRYST1 that every reader turns back into the same cell', () => {
    const cell = cellFromParameters(9.123, 10.456, 11.789, 77.5, 96.25, 104.75);
    const frac = [0.1, 0.2, 0.3, 0.8, 0.15, 0.6, 0.45, 0.9, 0.05, 1.1, -0.2, 0.5];
    const positions = new Float64Array(frac.length);
    for (let i = 0; i < frac.length; i += 3) for (let d = 0; d < 3; d++) positions[i + d] = frac[i] * cell[d] + frac[i + 1] * cell[3 + d] + frac[i + 2] * cell[6 + d];
    const s: Structure = { numbers: Int32Array.from([14, 8, 8, 11]), positions, cell, pbc: [true, true, true], charge: 0, spin: 1 };
    const text = checkAll('triclinic', s, positions);
    expect(text.split('\n')[1]).toBe('CRYST1    9.123   10.456   11.789  77.50  96.25 104.75 P 1           1');
  });

  it('writes a rotated cell in the standard orientation, keeping the fractional coordinates', () => {
    const c = Math.cos(0.4), sn = Math.sin(0.4);
    const cell = Float64Array.from([7 * c, 7 * sn, 0, -8 * sn, 8 * c, 0, 1, -0.5, 9]);
    const frac = [0.1, 0.2, 0.3, 0.7, 0.6, 0.5];
    const cart = (m: ArrayLike<number>) => {
      const p = new Float64Array(frac.length);
      for (let i = 0; i < frac.length; i += 3) for (let d = 0; d < 3; d++) p[i + d] = frac[i] * m[d] + frac[i + 1] * m[3 + d] + frac[i + 2] * m[6 + d];
      return p;
    };
    const s: Structure = { numbers: Int32Array.from([29, 29]), positions: cart(cell), cell, pbc: [true, true, true], charge: 0, spin: 1 };
    checkAll('rotated', s, cart(cellFromParameters(...cellParameters(cell))));
  });

  it('lays out the fixed columns: names aligned by element, element in 77-78, serials wrapping past 99999', () => {
    expect(pdbAtomNames(Int32Array.from([1, 17, 1, 6]))).toEqual(['H1', 'CL1', 'H2', 'C1']);
    const many = new Int32Array(1000).fill(1);
    expect(pdbAtomNames(many).slice(998)).toEqual(['H999', 'H']);
    const s: Structure = { numbers: Int32Array.from([8, 17]), positions: Float64Array.from([-1.5, 2, 3, 999.25, -999.5, 0]), cell: null,
      pbc: [false, false, false], charge: 0, spin: 1 };
    const [o, cl] = writePdb(s).split('\n');
    expect(o).toBe('HETATM    1  O1  MOL A   1      -1.500   2.000   3.000  1.00  0.00           O  ');
    expect(cl).toBe('HETATM    2 CL1  MOL A   1     999.250-999.500   0.000  1.00  0.00          CL  ');
    expect(o.slice(76, 78)).toBe(' O');
    expect(o.slice(30, 38)).toBe('  -1.500');
    const big: Structure = { ...s, numbers: new Int32Array(100001).fill(18), positions: new Float64Array(300003) };
    const lines = writePdb(big).split('\n');
    expect(lines[99998].slice(6, 11)).toBe('99999');
    expect(lines[99999].slice(6, 11)).toBe('    0');
  });

  it('refuses what the fixed columns cannot hold with a StructureWriteError naming the atom', () => {
    const s: Structure = { numbers: Int32Array.from([8, 1]), positions: Float64Array.from([0, 0, 0, 0, -1000, 0]), cell: null,
      pbc: [false, false, false], charge: 0, spin: 1 };
    expect(() => writePdb(s)).toThrow(StructureWriteError);
    expect(() => writePdb(s)).toThrow(/cannot write PDB: atom 2 has y = -1000 Å, outside/);
    expect(() => writePdb({ ...s, positions: Float64Array.from([0, 0, NaN, 0, 0, 0]) })).toThrow(/atom 1 has z = NaN/);
    expect(() => writePdb({ ...s, numbers: Int32Array.from([8, 0]) })).toThrow(/atom 2 has atomic number 0/);
    expect(() => writePdb({ ...s, positions: new Float64Array(3) })).toThrow(/2 atomic numbers but 1 positions/);
    expect(() => writePdb({ ...s, positions: new Float64Array(6), cell: Float64Array.from([1e5, 0, 0, 0, 10, 0, 0, 0, 10]), pbc: [true, true, true] }))
      .toThrow(/cell length a = 100000 Å does not fit/);
  });
});
