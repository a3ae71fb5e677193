// PDB writer for one frame, in the wwPDB 3.3 fixed columns our reader (src/io/pdb.ts), ASE, MDAnalysis, mdtraj,
// VMD and Mol* read: CRYST1 for a cell with a periodic direction (space group P 1), one HETATM per atom in
// residue MOL 1 of chain A, element symbol in columns 77-78. Atom names are the element plus a per-element count
// ("O1", "H2", "CL3"), aligned as the PDB convention has it (a one-letter element from column 14), so tools that
// ignore the element column still read the right element from the name.

import { toParameterFrame } from './cellOrientation';
import { chemicalSymbol } from './elements';
import type { Structure } from './structure';
import { StructureWriteError } from './writeErrors';

const fixed = (x: number, width: number, decimals: number) => x.toFixed(decimals).padStart(width);

/** Atom names for `numbers`: element + running count per element when that fits in 4 columns, else the element alone. */
export function pdbAtomNames(numbers: Int32Array): string[] {
  const seen = new Map<number, number>();
  return Array.from(numbers, (z) => {
    const k = (seen.get(z) ?? 0) + 1;
    seen.set(z, k);
    const symbol = chemicalSymbol(z).toUpperCase();
    const name = `${symbol}${k}`;
    return name.length <= 4 ? name : symbol;
  });
}

/** Columns 13-16: a one-letter element starts in column 14 unless the name fills all four columns. */
function nameField(name: string, symbol: string): string {
  return symbol.length === 1 && name.length < 4 ? ` ${name}`.padEnd(4) : name.padEnd(4);
}

/**
 * The structure as PDB text. Coordinates are written to 0.001 Å (the format's resolution); a periodic cell is
 * written as CRYST1 lengths (0.001 Å) and angles (0.01°), with positions turned into that cell's standard
 * orientation (see cellOrientation.ts). Throws StructureWriteError for values the fixed columns cannot hold.
 */
export function writePdb(s: Structure, title?: string): string {
  const n = s.numbers.length;
  if (s.positions.length !== 3 * n) {
    throw new StructureWriteError('PDB', `${n} atomic numbers but ${s.positions.length / 3} positions`);
  }
  for (let i = 0; i < n; i++) {
    const z = s.numbers[i];
    if (!Number.isInteger(z) || z < 1 || z > 118) throw new StructureWriteError('PDB', `atom ${i + 1} has atomic number ${z}, not an element`);
  }
  const lines: string[] = [];
  if (title) lines.push(`TITLE     ${title.replace(/[^\x20-\x7e]/g, '?').slice(0, 70)}`);
  let positions = s.positions;
  // A cell with no periodic direction only frames a molecule; readers would take CRYST1 as a periodic box.
  if (s.cell && s.pbc.some(Boolean)) {
    const oriented = toParameterFrame(s.positions, s.cell, 'PDB');
    positions = oriented.positions;
    const [a, b, c, alpha, beta, gamma] = oriented.parameters;
    for (const [what, x] of [['a', a], ['b', b], ['c', c]] as const) {
      if (x >= 99999.9995) throw new StructureWriteError('PDB', `the cell length ${what} = ${x} Å does not fit CRYST1's 9 columns`);
    }
    lines.push(`CRYST1${fixed(a, 9, 3)}${fixed(b, 9, 3)}${fixed(c, 9, 3)}${fixed(alpha, 7, 2)}${fixed(beta, 7, 2)}${fixed(gamma, 7, 2)} ${'P 1'.padEnd(11)}${'1'.padStart(4)}`);
  }
  const names = pdbAtomNames(s.numbers);
  for (let i = 0; i < n; i++) {
    const xyz = [0, 1, 2].map((d) => positions[3 * i + d]);
    xyz.forEach((x, d) => {
      // %8.3f holds -999.999 … 9999.999.
      if (!Number.isFinite(x) || x <= -999.9995 || x >= 9999.9995) {
        throw new StructureWriteError('PDB', `atom ${i + 1} has ${'xyz'[d]} = ${x} Å, outside the -999.999 … 9999.999 Å that PDB's 8-column fields hold`);
      }
    });
    const symbol = chemicalSymbol(s.numbers[i]).toUpperCase();
    // Serial numbers wrap past 99999 as ASE and MDAnalysis do; readers take atoms in file order.
    const serial = String((i + 1) % 100000).padStart(5);
    lines.push(
      `HETATM${serial} ${nameField(names[i], symbol)} MOL A   1    ` +
      `${fixed(xyz[0], 8, 3)}${fixed(xyz[1], 8, 3)}${fixed(xyz[2], 8, 3)}${fixed(1, 6, 2)}${fixed(0, 6, 2)}` +
      `${' '.repeat(10)}${symbol.padStart(2)}  `,
    );
  }
  lines.push('END');
  return lines.join('\n') + '\n';
}
