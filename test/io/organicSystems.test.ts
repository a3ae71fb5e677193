// The organic built-in molecules (GFN2-xTB minima from training/data/make_organics.py): read by the project's
// reader with their charge and spin, H/C/N/O only, bonded as the formula says, listed in the system panel.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { covalentRadius } from '../../src/io/elements';
import { readStructure } from '../../src/io/read';
import { BUILTIN_SYSTEMS } from '../../src/ui/system/builtins';

const DIR = join(__dirname, '..', '..', 'public', 'systems');
const CASES: [file: string, formula: Record<number, number>, charge: number, bonds: number][] = [
  ['aspirin.xyz', { 1: 8, 6: 9, 8: 4 }, 0, 21],
  ['paracetamol.xyz', { 1: 9, 6: 8, 7: 1, 8: 2 }, 0, 20],
  ['caffeine.xyz', { 1: 10, 6: 8, 7: 4, 8: 2 }, 0, 25],
  ['ethanol.xyz', { 1: 6, 6: 2, 8: 1 }, 0, 8],
  ['acetate.xyz', { 1: 3, 6: 2, 8: 2 }, -1, 6],
];

describe('organic built-in molecules', () => {
  it.each(CASES)('%s: formula, charge, one bond per covalent pair and nothing closer', (file, formula, charge, bonds) => {
    const s = readStructure(readFileSync(join(DIR, file), 'utf8'), file);
    const counts: Record<number, number> = {};
    for (const z of s.numbers) counts[z] = (counts[z] ?? 0) + 1;
    expect(counts).toEqual(formula);
    expect([s.charge, s.spin]).toEqual([charge, 1]);
    expect(s.cell).toBeNull();
    let nBonds = 0;
    const n = s.numbers.length;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = Math.hypot(...[0, 1, 2].map((k) => s.positions[3 * i + k] - s.positions[3 * j + k]));
        const ref = covalentRadius(s.numbers[i]) + covalentRadius(s.numbers[j]);
        expect(d, `${file} atoms ${i}-${j}`).toBeGreaterThan(0.75 * ref);
        if (d < 1.2 * ref) nBonds++;
      }
    }
    // covalent bond graph of the molecule (aromatic and double bonds count once)
    expect(nBonds).toBe(bonds);
    expect(BUILTIN_SYSTEMS.some((b) => b.file === file)).toBe(true);
  });
});
