// Structure-vs-model checks run before any compute (issue 12): elements, charge/spin, close atoms, cell.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStructure } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import type { ModelConfig } from '../../src/model/config';
import { parseModelConfig, validateModelConfig } from '../../src/model/modelJson';
import {
  assertSystemSupported, checkSystem, CLOSE_CONTACT_FRACTION, findCloseContacts, UnsupportedSystemError,
} from '../../src/model/systemCheck';
import { COVALENT_RADII } from '../../src/io/elements';
import { tinyConfigObject } from './helpers';

const ROOT = join(__dirname, '..', '..');
const water: ModelConfig = parseModelConfig(readFileSync(join(ROOT, 'public/models/water-spcfw-small/model.json'), 'utf8'));

export const ETHANOL_XYZ = `9
ethanol
C  -0.0017  1.0000  0.0000
C  -0.0017 -0.5280  0.0000
O   1.3560 -0.9620  0.0000
H  -1.0280  1.3880  0.0000
H   0.5050  1.3960  0.8880
H   0.5050  1.3960 -0.8880
H  -0.5170 -0.9140  0.8880
H  -0.5170 -0.9140 -0.8880
H   1.3600 -1.9310  0.0000
`;

function molecule(symbols: number[], positions: number[], extra: Partial<Structure> = {}): Structure {
  return { numbers: Int32Array.from(symbols), positions: Float64Array.from(positions), cell: null, pbc: [false, false, false], charge: 0, spin: 1, ...extra };
}
const H2O = () => molecule([8, 1, 1], [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0]);

function rejection(fn: () => unknown): UnsupportedSystemError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsupportedSystemError);
    return e as UnsupportedSystemError;
  }
  throw new Error('expected an UnsupportedSystemError');
}

/** Every pair closer than the threshold by brute force over images −2..2 (the reference for findCloseContacts). */
function bruteForce(s: Structure): string[] {
  const n = s.numbers.length;
  const out = new Map<string, number>();
  const range = (k: number) => (s.cell && s.pbc[k] ? [-2, -1, 0, 1, 2] : [0]);
  for (let a = 0; a < n; a++)
    for (let b = a; b < n; b++)
      for (const i of range(0)) for (const j of range(1)) for (const k of range(2)) {
        if (a === b && i === 0 && j === 0 && k === 0) continue;
        const t = [0, 1, 2].map((q) => (s.cell ? i * s.cell[q] + j * s.cell[3 + q] + k * s.cell[6 + q] : 0));
        const d = Math.hypot(...[0, 1, 2].map((q) => s.positions[3 * b + q] + t[q] - s.positions[3 * a + q]));
        const thr = CLOSE_CONTACT_FRACTION * (COVALENT_RADII[s.numbers[a]] + COVALENT_RADII[s.numbers[b]]);
        if (d < thr) {
          const key = `${a}-${b}`;
          out.set(key, Math.min(out.get(key) ?? Infinity, d));
        }
      }
  return [...out.entries()].map(([k, d]) => `${k}:${d.toFixed(9)}`).sort();
}

describe('elements the model was trained on', () => {
  it('refuses ethanol with the water model, naming the element, its atoms and the model\'s list', () => {
    const ethanol = readStructure(ETHANOL_XYZ, 'ethanol.xyz');
    const e = rejection(() => assertSystemSupported(ethanol, water));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].kind).toBe('untrained-element');
    expect(e.problems[0].atoms).toEqual([0, 1]);
    expect(e.message).toBe(
      'model water-spcfw-small was trained on H, O (Z = 1, 8) only; the structure has C (atoms 0, 1). ' +
        'Its energies and forces for them would be meaningless (override: --allow-untrained-elements)',
    );
  });

  it('lets an expert override it, as a warning', () => {
    const ethanol = readStructure(ETHANOL_XYZ, 'ethanol.xyz');
    const warnings = assertSystemSupported(ethanol, water, { allowUntrainedElements: true });
    expect(warnings.map((w) => w.kind)).toEqual(['untrained-element']);
    expect(warnings[0].message).toMatch(/^computing C \(atoms 0, 1\) although model water-spcfw-small was trained on H, O \(Z = 1, 8\) only/);
  });

  it('caps the atom list and names every untrained element', () => {
    const n = 30;
    const numbers = Array.from({ length: n }, (_, q) => (q % 3 === 0 ? 6 : q % 3 === 1 ? 7 : 1));
    const positions = Array.from({ length: n }, (_, q) => [3 * q, 0, 0]).flat();
    const e = rejection(() => assertSystemSupported(molecule(numbers, positions), water));
    expect(e.message).toContain('the structure has C (atoms 0, 3, 6, 9, 12, 15, 18, 21, 24, 27), N (atoms 1, 4, 7, 10, 13, 16, 19, 22, 25, 28)');
    const many = Array.from({ length: 40 }, () => 6);
    expect(rejection(() => assertSystemSupported(molecule(many, many.flatMap((_, q) => [2 * q, 0, 0])), water)).message)
      .toContain('C (atoms 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 30 more)');
  });

  it('refuses elements the model cannot embed even with the override, and warns when the model does not list its elements', () => {
    const s = molecule([1, 26], [0, 0, 0, 3, 0, 0]);
    const e = rejection(() => assertSystemSupported(s, water, { allowUntrainedElements: true }));
    expect(e.problems.map((p) => p.kind)).toEqual(['element-outside-model']);
    expect(e.message).toBe('model water-spcfw-small cannot represent Fe (atom 1): its atomic embedding and element references cover Z = 1..8');
    const unlisted = { ...water, elements: null };
    const check = checkSystem(molecule([6, 1], [0, 0, 0, 1.1, 0, 0]), unlisted);
    expect(check.errors).toEqual([]);
    expect(check.warnings.map((w) => w.message)).toEqual([
      'model water-spcfw-small does not list the elements it was trained on, so the structure\'s elements (H, C) are not checked against them',
    ]);
  });
});

describe('charge and spin', () => {
  it('a model without the charge/spin embedding refuses charge 5 and spin 3 instead of ignoring them', () => {
    expect(water.architecture.use_charge_spin).toBe(false);
    const e = rejection(() => assertSystemSupported({ ...H2O(), charge: 5, spin: 3 }, water));
    expect(e.problems.map((p) => p.kind)).toEqual(['charge', 'spin']);
    expect(e.message).toBe(
      '2 problems with the structure for model water-spcfw-small:\n' +
        '  - model water-spcfw-small has no charge/spin embedding (architecture.use_charge_spin is false), so it computes every ' +
        'structure as neutral (charge 0); this one has charge 5. Use charge 0 or a model with charge/spin\n' +
        '  - model water-spcfw-small has no charge/spin embedding (architecture.use_charge_spin is false), so it computes every ' +
        'structure as a singlet (spin multiplicity 1); this one has spin 3. Use spin 1 or a model with charge/spin',
    );
    expect(assertSystemSupported(H2O(), water)).toEqual([]);
  });

  it('a model with the embedding takes charges −100..100 and multiplicities 0..100 only', () => {
    const obj = tinyConfigObject();
    obj.elements = [1, 8];
    const cs = validateModelConfig(obj);
    expect(assertSystemSupported({ ...H2O(), charge: -1, spin: 2 }, cs)).toEqual([]);
    expect(rejection(() => assertSystemSupported({ ...H2O(), charge: 150, spin: 101 }, cs)).problems.map((p) => p.kind)).toEqual(['charge', 'spin']);
  });
});

describe('atoms too close', () => {
  it('reports a duplicated atom with the pair and distance: an error by default, a warning for the workbench', () => {
    const s = molecule([8, 1, 1, 1], [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0, 0.96, 0.1, 0]);
    const e = rejection(() => assertSystemSupported(s, water));
    expect(e.problems[0].kind).toBe('close-atoms');
    expect(e.problems[0].contacts).toEqual([{ a: 1, b: 3, distance: expect.closeTo(0.1, 12), threshold: expect.closeTo(0.31, 12) }]);
    expect(e.message).toBe('1 atom pair is closer than half their covalent radii sum (no real structure is): atoms 1 (H) and 3 (H) at 0.100 Å');
    const ui = checkSystem(s, water, { closeAtoms: 'warning' });
    expect(ui.errors).toEqual([]);
    expect(ui.warnings.map((w) => w.kind)).toEqual(['close-atoms']);
  });

  it('uses the minimum image: a pair across the periodic boundary, an atom and its own image in a 0.05 Å cell', () => {
    const across = { ...molecule([8, 8], [0.1, 5, 5, 9.95, 5, 5]), cell: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, 10), pbc: [true, true, true] as Structure['pbc'] };
    expect(findCloseContacts(across)).toEqual([{ a: 0, b: 1, distance: expect.closeTo(0.15, 10), threshold: 0.66 }]);
    expect(findCloseContacts({ ...across, pbc: [false, false, false] })).toEqual([]);
    // a non-periodic structure with a placeholder (even singular) cell is binned in plain Cartesian axes
    const placeholder = { ...H2O(), cell: new Float64Array(9) };
    expect(checkSystem(placeholder, water)).toEqual({ errors: [], warnings: [] });
    const thin = { ...H2O(), cell: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, 0.05), pbc: [true, true, true] as Structure['pbc'] };
    const e = rejection(() => assertSystemSupported(thin, water));
    expect(e.problems.map((p) => p.kind)).toEqual(['cell-too-small', 'close-atoms']);
    expect(e.message).toContain('atom 0 (O) and its own periodic image at 0.050 Å');
  });

  it('agrees with a brute-force search on random triclinic, slab and open structures', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const cells = [
      Float64Array.of(6, 0, 0, 2.5, 5.5, 0, -1.5, 1.2, 5.8),
      Float64Array.of(4.2, 0, 0, 0, 4.6, 0, 1.1, 0.4, 3.9),
      Float64Array.of(7, 0, 0, 3.4, 6.1, 0, 0, 0, 9),
    ];
    const pbcs: Structure['pbc'][] = [[true, true, true], [true, true, false], [true, false, true], [false, false, false]];
    let compared = 0, found = 0;
    for (let trial = 0; trial < 36; trial++) {
      const cell = cells[trial % cells.length];
      const pbc = pbcs[Math.floor(trial / 3) % pbcs.length];
      const n = 20 + (trial % 5) * 7;
      const numbers = Array.from({ length: n }, () => [1, 6, 8, 26][Math.floor(rnd() * 4)]);
      // fractional positions in −0.2..1.2 so atoms also sit outside the cell
      const positions: number[] = [];
      for (let q = 0; q < n; q++) {
        const f = [rnd() * 1.4 - 0.2, rnd() * 1.4 - 0.2, rnd() * 1.4 - 0.2];
        for (let k = 0; k < 3; k++) positions.push(f[0] * cell[k] + f[1] * cell[3 + k] + f[2] * cell[6 + k]);
      }
      const s: Structure = { numbers: Int32Array.from(numbers), positions: Float64Array.from(positions), cell, pbc, charge: 0, spin: 1 };
      const fast = findCloseContacts(s, 1e9)!.map((c) => `${c.a}-${c.b}:${c.distance.toFixed(9)}`).sort();
      const slow = bruteForce(s);
      expect(fast, `trial ${trial}`).toEqual(slow);
      compared++;
      found += slow.length;
    }
    expect(compared).toBe(36);
    expect(found).toBeGreaterThan(20); // the comparison saw real contacts, not only empty lists
  });

  it('is linear: about 20,000 atoms of water in a periodic box in under 1.5 s', () => {
    const box = readStructure(readFileSync(join(ROOT, 'public/systems/water64_box.xyz'), 'utf8'), 'water64_box.xyz');
    // 5×5×4 copies of the 192-atom box = 19,200 atoms, plus two atoms placed 0.2 Å apart
    const rep = [5, 5, 4];
    const L = box.cell![0];
    const numbers: number[] = [], positions: number[] = [];
    for (let i = 0; i < rep[0]; i++) for (let j = 0; j < rep[1]; j++) for (let k = 0; k < rep[2]; k++)
      for (let q = 0; q < 192; q++) {
        numbers.push(box.numbers[q]);
        positions.push(box.positions[3 * q] + i * L, box.positions[3 * q + 1] + j * L, box.positions[3 * q + 2] + k * L);
      }
    numbers.push(8, 8);
    positions.push(1000, 1000, 1000, 1000.2, 1000, 1000); // far out: wrapped into the box, next to waters
    const big: Structure = {
      numbers: Int32Array.from(numbers), positions: Float64Array.from(positions),
      cell: Float64Array.of(rep[0] * L, 0, 0, 0, rep[1] * L, 0, 0, 0, rep[2] * L), pbc: [true, true, true], charge: 0, spin: 1,
    };
    const t0 = performance.now();
    const check = checkSystem(big, water, { closeAtoms: 'warning' });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1500);
    const close = check.warnings.find((w) => w.kind === 'close-atoms')!;
    expect(close.contacts!.some((c) => c.a === 19200 && c.b === 19201 && Math.abs(c.distance - 0.2) < 1e-9)).toBe(true);
  });
});

describe('MD engine set-up', () => {
  it('systemForModel refuses before building a system, and returns warnings with it', async () => {
    const { systemForModel } = await import('../../src/md/setup');
    const ethanol = readStructure(ETHANOL_XYZ, 'ethanol.xyz');
    expect(() => systemForModel(ethanol, water)).toThrow(UnsupportedSystemError);
    const forced = systemForModel(ethanol, water, { allowUntrainedElements: true, temperature: 300, seed: 2 });
    expect(forced.system.numbers.length).toBe(9);
    expect(forced.warnings.map((w) => w.kind)).toEqual(['untrained-element']);
    const squeezed = molecule([8, 1, 1, 1], [0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0, 0.96, 0.1, 0]);
    expect(systemForModel(squeezed, water).warnings.map((w) => w.kind)).toEqual(['close-atoms']);
    expect(() => systemForModel(squeezed, water, { closeAtoms: 'error' })).toThrow(/atoms 1 \(H\) and 3 \(H\) at 0\.100 Å/);
  });
});
