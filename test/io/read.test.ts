import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicMass, atomicNumber, atomicNumberOrNull, chemicalSymbol, covalentRadius } from '../../src/io/elements';
import { detectFormat, readStructure, readStructures } from '../../src/io/read';

const data = (name: string) => readFileSync(join(__dirname, 'data', name), 'utf8');

describe('readStructure', () => {
  it('picks the format from the extension', () => {
    expect(detectFormat('', 'a.xyz')).toBe('xyz');
    expect(detectFormat('', 'dir/a.EXTXYZ')).toBe('xyz');
    expect(detectFormat('', 'a.pdb')).toBe('pdb');
    expect(detectFormat('', 'a.ent')).toBe('pdb');
  });

  it('falls back to the content when the extension says nothing', () => {
    const pdb = data('water_hetatm.pdb');
    const xyz = data('ase_water_pbc.extxyz');
    expect(detectFormat(pdb, 'upload.txt')).toBe('pdb');
    expect(detectFormat(xyz, 'upload')).toBe('xyz');
    expect(readStructure(pdb, 'upload.txt').numbers.length).toBe(10);
    expect(readStructure(xyz, 'upload').cell).not.toBeNull();
    expect(readStructures(data('ase_methanol_traj.extxyz'), 'traj.extxyz')).toHaveLength(3);
  });

  it('names the file when the format is unknown or the file is empty', () => {
    expect(() => readStructure('hello world', 'notes.txt')).toThrow(
      'notes.txt: cannot tell the file format: use an .xyz, .extxyz or .pdb file (or XYZ/PDB content)',
    );
    expect(() => readStructure('  \n', 'blank.dat')).toThrow('blank.dat: the file is empty (no atoms to read)');
  });
});

describe('elements', () => {
  it('maps symbols and atomic numbers both ways, case-insensitively', () => {
    expect(atomicNumber('O')).toBe(8);
    expect(atomicNumber('FE')).toBe(26);
    expect(atomicNumber('cl')).toBe(17);
    expect(atomicNumberOrNull('Xx')).toBeNull();
    expect(atomicNumberOrNull('X')).toBeNull();
    expect(chemicalSymbol(118)).toBe('Og');
    expect(() => atomicNumber('Qq')).toThrow('unknown element "Qq"');
    expect(() => chemicalSymbol(0)).toThrow('no element has atomic number 0');
  });

  it('has ASE masses and covalent radii', () => {
    // Values of ase.data.atomic_masses (IUPAC 2016) and ase.data.covalent_radii.
    expect(atomicMass(1)).toBe(1.008);
    expect(atomicMass(8)).toBe(15.999);
    expect(atomicMass(11)).toBe(22.98976928);
    expect(atomicMass(17)).toBe(35.45);
    expect(covalentRadius(1)).toBe(0.31);
    expect(covalentRadius(8)).toBe(0.66);
  });
});
