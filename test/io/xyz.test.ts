import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StructureParseError } from '../../src/io/errors';
import { StructureWriteError } from '../../src/io/writeErrors';
import type { Structure } from '../../src/io/structure';
import { readXyz, writeExtXyz } from '../../src/io/xyz';

const data = (name: string) => readFileSync(join(__dirname, 'data', name), 'utf8');

function parseError(text: string, fileName = 'water.xyz'): StructureParseError {
  try {
    readXyz(text, fileName);
  } catch (e) {
    expect(e).toBeInstanceOf(StructureParseError);
    return e as StructureParseError;
  }
  throw new Error('expected a StructureParseError');
}

describe('readXyz on ASE-written files', () => {
  it('reads a periodic extXYZ with Lattice, Properties, momenta, forces, energy, stress, charge and spin', () => {
    const [s] = readXyz(data('ase_water_pbc.extxyz'), 'ase_water_pbc.extxyz');
    expect(Array.from(s.numbers)).toEqual([8, 1, 1]);
    expect(Array.from(s.positions.slice(0, 3))).toEqual([2.65, 2.84006152, 3.2981545]);
    expect(Array.from(s.cell!)).toEqual([5, 0, 0, 0.3, 5.5, 0, 0, 0.2, 6]);
    expect(s.pbc).toEqual([true, true, true]);
    expect(s.charge).toBe(0);
    expect(s.spin).toBe(1);
    expect(s.info!.energy).toBe(-14.2);
    expect(s.info!.comment_text).toBe('ASE sample with spaces');
    expect(s.info!.stress).toEqual([0.0, 0.005, 0.004, 0.005, 0.001, 0.003, 0.004, 0.003, 0.002]);
    expect(Array.from(s.arrays!.forces as Float64Array)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect((s.arrays!.momenta as Float64Array)[0]).toBe(0.15999);
  });

  it('reads every frame of a multi-frame extXYZ trajectory', () => {
    const frames = readXyz(data('ase_methanol_traj.extxyz'), 'ase_methanol_traj.extxyz');
    expect(frames).toHaveLength(3);
    expect(frames.map((f) => f.info!.energy)).toEqual([-100, -100.5, -101]);
    for (const f of frames) {
      expect(Array.from(f.numbers)).toEqual([6, 8, 1, 1, 1, 1]);
      expect(f.cell).toBeNull();
      expect(f.pbc).toEqual([false, false, false]);
      expect((f.arrays!.forces as Float64Array).length).toBe(18);
    }
    expect(frames[1].positions[0]).not.toBe(frames[0].positions[0]);
  });

  it('reads a plain multi-frame XYZ with empty comment lines', () => {
    const frames = readXyz(data('ase_methane_2frames.xyz'), 'ase_methane_2frames.xyz');
    expect(frames).toHaveLength(2);
    expect(Array.from(frames[0].numbers)).toEqual([6, 1, 1, 1, 1]);
    expect(frames[1].positions[0]).toBeCloseTo(0.1, 15);
    expect(frames[0].info).toBeUndefined();
    expect(frames[0].charge).toBe(0);
    expect(frames[0].spin).toBe(1);
  });
});

describe('readXyz details', () => {
  it('keeps a free-text comment, accepts atomic numbers, CRLF and Fortran D exponents', () => {
    const text = '3\r\nwater molecule, MP2 geometry\r\n8 0.0 0.0 0.1173D0\r\nH 0 0.7572 -0.4692\r\nh 0 -0.7572 -0.4692\r\n';
    const [s] = readXyz(text, 'w.xyz');
    expect(Array.from(s.numbers)).toEqual([8, 1, 1]);
    expect(s.positions[2]).toBe(0.1173);
    expect(s.info!.comment).toBe('water molecule, MP2 geometry');
  });

  it('reads charge/spin keys, partial pbc, bare keys, single-quoted values and Z columns', () => {
    const text = [
      '2',
      "Lattice=\"10 0 0 0 10 0 0 0 20\" pbc=\"T T F\" Properties=species:S:1:pos:R:3:Z:I:1:fixed:L:1 charge=-1 spin=2 relaxed label='Na Cl'",
      'Na 1 1 1 11 T',
      'Cl 3.5 1 1 17 F',
    ].join('\n');
    const [s] = readXyz(text, 'nacl.extxyz');
    expect(s.pbc).toEqual([true, true, false]);
    expect(s.charge).toBe(-1);
    expect(s.spin).toBe(2);
    expect(s.info!.relaxed).toBe(true);
    expect(s.info!.label).toBe('Na Cl');
    expect(Array.from(s.arrays!.Z as Int32Array)).toEqual([11, 17]);
    expect(Array.from(s.arrays!.fixed as Int32Array)).toEqual([1, 0]);
  });

  it('treats a Lattice without pbc as periodic (as ASE does)', () => {
    const [s] = readXyz('1\nLattice="3 0 0 0 3 0 0 0 3"\nAr 0 0 0\n', 'ar.xyz');
    expect(s.pbc).toEqual([true, true, true]);
  });
});

describe('readXyz on malformed files', () => {
  it('reports a short atom line with the expected columns', () => {
    const e = parseError('3\n\nO 0 0 0\nH 0.76 0.59\nH -0.76 0.59 0\n');
    expect(e.message).toBe('water.xyz line 4: expected 4 columns (symbol x y z), got 3');
    expect(e.line).toBe(4);
  });

  it('reports a column-count mismatch against Properties', () => {
    const e = parseError('1\nProperties=species:S:1:pos:R:3:forces:R:3\nO 0 0 0 1 2\n');
    expect(e.message).toBe('water.xyz line 3: expected 7 columns (species, pos×3, forces×3), got 6');
  });

  it('ignores columns beyond those Properties declares, as ASE does (QUIP aala.xyz)', () => {
    const [s] = readXyz('1\nProperties=species:S:1:pos:R:3\nC 0.767 0.801 13.311 0.00 -0.27\n', 'aala.xyz');
    expect(Array.from(s.positions)).toEqual([0.767, 0.801, 13.311]);
    expect(s.arrays).toBeUndefined();
  });

  it('reports an unknown element', () => {
    expect(parseError('1\n\nXx 0 0 0\n').message).toBe('water.xyz line 3: unknown element "Xx"');
  });

  it('reports a bad number', () => {
    expect(parseError('2\n\nO 0 0 0\nH 0 1.2.3 0\n').message).toBe(
      'water.xyz line 4: y coordinate "1.2.3" is not a finite number',
    );
  });

  it('reports a bad atom count', () => {
    expect(parseError('three\n\nO 0 0 0\n').message).toBe(
      'water.xyz line 1: expected the number of atoms (a whole number) at the start of frame 1, got "three"',
    );
  });

  it('reports a file that ends before all atoms are read', () => {
    expect(parseError('3\n\nO 0 0 0\nH 0 0 1\n').message).toBe(
      'water.xyz line 5: file ends after 2 of 3 atoms of frame 1',
    );
    expect(parseError('3').message).toBe('water.xyz line 2: file ends before the comment line of frame 1');
    expect(parseError('3\n').message).toBe('water.xyz line 1: frame 1 says 3 atoms, but only 0 lines follow the comment line');
  });

  it('reports a truncated second frame', () => {
    const text = '1\n\nO 0 0 0\n2\n\nH 0 0 0\n';
    expect(parseError(text).message).toBe('water.xyz line 7: file ends after 1 of 2 atoms of frame 2');
  });

  it('reports a bad Lattice: wrong count, bad number, zero volume', () => {
    expect(parseError('1\nLattice="1 0 0 0 1 0"\nO 0 0 0\n').message).toBe(
      'water.xyz line 2: Lattice must have 9 numbers (three lattice vectors a, b, c), got 6',
    );
    expect(parseError('1\nLattice="1 0 0 0 1 0 0 0 abc"\nO 0 0 0\n').message).toBe(
      'water.xyz line 2: Lattice value "abc" is not a finite number',
    );
    expect(parseError('1\nLattice="1 0 0 2 0 0 0 0 1"\nO 0 0 0\n').message).toContain(
      'Lattice: the lattice vectors are (nearly) linearly dependent',
    );
    expect(parseError('1\nLattice="1 0 0 0 1 0 0 0 1\nO 0 0 0\n').message).toBe(
      'water.xyz line 2: cannot read the extXYZ comment line: unterminated quote in the value of "Lattice"',
    );
  });

  it('reports bad Properties, pbc, charge and spin', () => {
    expect(parseError('1\nProperties=species:S:1:pos:R\nO 0 0 0\n').message).toContain('name:type:count triples');
    expect(parseError('1\nProperties=species:S:1:pos:X:3\nO 0 0 0\n').message).toContain('has type "X"');
    expect(parseError('1\nProperties=species:S:1:forces:R:3\nO 0 0 0\n').message).toContain('no position column');
    expect(parseError('1\npbc="T T" Lattice="1 0 0 0 1 0 0 0 1"\nO 0 0 0\n').message).toContain(
      'must be three booleans',
    );
    expect(parseError('1\npbc="T T T"\nO 0 0 0\n').message).toContain('no Lattice is given');
    expect(parseError('1\ncharge=0.5\nO 0 0 0\n').message).toBe(
      'water.xyz line 2: charge must be a whole number, got "0.5"',
    );
    expect(parseError('1\nspin=-1\nO 0 0 0\n').message).toContain('cannot be negative');
  });

  it('reports an empty file', () => {
    expect(parseError('\n\n').message).toBe('water.xyz: the file is empty (no atoms to read)');
  });
});

describe('writeExtXyz', () => {
  const box: Structure = {
    numbers: Int32Array.from([8, 1, 1]),
    positions: Float64Array.from([1.1, 2.2, 3.3, 1.8, 2.9, 3.3, 0.4, 2.9, 3.3]),
    cell: Float64Array.from([6, 0, 0, 0, 6.5, 0, 0.5, 0, 7]),
    pbc: [true, true, false],
    charge: -1,
    spin: 2,
    info: { energy: -12.5, note: 'written by "scaip-web"', converged: true, stress: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    arrays: { forces: Float64Array.from([0.1, -0.2, 0.3, 0, 0, 0, -0.1, 0.2, -0.3]), tags: Int32Array.from([1, 2, 3]) },
  };

  it('round-trips through readXyz', () => {
    const text = writeExtXyz([box, { ...box, charge: 0, spin: 1 }]);
    const frames = readXyz(text, 'out.extxyz');
    expect(frames).toHaveLength(2);
    const s = frames[0];
    expect(Array.from(s.numbers)).toEqual([8, 1, 1]);
    expect(Array.from(s.positions)).toEqual(Array.from(box.positions));
    expect(Array.from(s.cell!)).toEqual(Array.from(box.cell!));
    expect(s.pbc).toEqual([true, true, false]);
    expect([s.charge, s.spin, frames[1].charge, frames[1].spin]).toEqual([-1, 2, 0, 1]);
    expect(s.info).toEqual(box.info);
    expect(Array.from(s.arrays!.forces as Float64Array)).toEqual(Array.from(box.arrays!.forces as Float64Array));
    expect(Array.from(s.arrays!.tags as Int32Array)).toEqual([1, 2, 3]);
  });

  it('writes files that ASE reads back identically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xyz-'));
    const path = join(dir, 'box.extxyz');
    writeFileSync(path, writeExtXyz(box));
    const script = [
      'import sys, json, ase.io',
      'a = ase.io.read(sys.argv[1])',
      'print(json.dumps({"numbers": a.numbers.tolist(), "pos": a.positions.ravel().tolist(),',
      '  "cell": a.cell.array.ravel().tolist(), "pbc": a.pbc.tolist(), "charge": a.info.get("charge"),',
      '  "spin": a.info.get("spin"), "energy": a.get_potential_energy(), "forces": a.get_forces().ravel().tolist(),',
      '  "tags": a.get_tags().tolist(), "note": a.info.get("note")}, default=int))',
    ].join('\n');
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }));
    expect(out.numbers).toEqual([8, 1, 1]);
    expect(out.pos).toEqual(Array.from(box.positions));
    expect(out.cell).toEqual(Array.from(box.cell!));
    expect(out.pbc).toEqual([true, true, false]);
    expect([out.charge, out.spin]).toEqual([-1, 2]);
    expect(out.energy).toBe(-12.5);
    expect(out.forces).toEqual(Array.from(box.arrays!.forces as Float64Array));
    expect(out.tags).toEqual([1, 2, 3]);
    expect(out.note).toBe('written by "scaip-web"');
  });
});

describe('readXyz on hostile input (issue 12)', () => {
  it('bounds the atom count by the lines that follow before allocating anything', () => {
    // Before: new Int32Array(1e12) threw a bare RangeError; 99999999 atoms allocated ~2.8 GB.
    const t0 = performance.now();
    expect(parseError('1000000000000\n\nH 0 0 0\n').message).toBe(
      'water.xyz line 1: frame 1 says 1000000000000 atoms, but only 2 lines follow the comment line',
    );
    expect(parseError('99999999\n\nH 0 0 0\n').message).toBe(
      'water.xyz line 1: frame 1 says 99999999 atoms, but only 2 lines follow the comment line',
    );
    expect(parseError('99999999999999999999999999\n\nH 0 0 0\n').problem).toContain('atoms, but only 2 lines follow');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('bounds Properties column counts by the text before allocating anything', () => {
    // The reproducer is caught by the atom-count bound (3 atoms, 2 lines)…
    expect(parseError('3\nProperties=species:S:1:pos:R:3:forces:R:1000000000\nH 0 0 0 0\n').problem).toBe(
      'frame 1 says 3 atoms, but only 2 lines follow the comment line',
    );
    // …and with a consistent atom count by the column bound (before: new Float64Array(1e9) threw a RangeError).
    const e = parseError('1\nProperties=species:S:1:pos:R:3:forces:R:1000000000\nH 0 0 0 0\n');
    expect(e.line).toBe(2);
    expect(e.problem).toBe('Properties asks for 1000000004 columns on each of 1 atom lines, more than the 63 characters of the file can hold');
    expect(parseError('1\nProperties=species:S:1:pos:R:3:x:R:99999999999999999999\nH 0 0 0 0\n').problem).toContain(
      'Properties asks for',
    );
  });

  it('rejects a 0-atom frame instead of returning an empty structure', () => {
    expect(parseError('0\n\n').message).toBe('water.xyz line 1: frame 1 has 0 atoms');
  });

  it('rejects nearly singular and overflowing Lattices with a scale-free test, naming lengths and angles', () => {
    // |det| = 1e-4 Å³ passed the old absolute 1e-9 threshold.
    const thin = parseError('1\nLattice="10 0 0 10 1e-6 0 0 0 10"\nH 0 0 0\n');
    expect(thin.line).toBe(2);
    expect(thin.problem).toMatch(/^Lattice: the lattice vectors are \(nearly\) linearly dependent.*a = 10 Å, b = 10 Å, c = 10 Å, α = 90°, β = 90°, γ = 0\.0000057/);
    // The determinant was Infinity − Infinity = NaN, which compared false against the threshold and passed.
    const huge = parseError('1\nLattice="1e200 1e200 0 1e200 1e200 0 0 0 1"\nH 0 0 0\n');
    expect(huge.problem).toMatch(/^Lattice: .*(overflow|too long)/);
    expect(parseError('1\nLattice="1e999 0 0 0 1 0 0 0 1"\nH 0 0 0\n').problem).toBe('Lattice value "1e999" is not a finite number');
  });

  it('rejects non-finite numbers in positions, per-atom columns and info values', () => {
    expect(parseError('1\n\nH 1e999 0 0\n').problem).toBe('x coordinate "1e999" is not a finite number');
    expect(parseError('1\n\nH 0 nan 0\n').problem).toBe('y coordinate "nan" is not a finite number');
    const cols = '1\nProperties=species:S:1:pos:R:3:forces:R:3\n';
    // Before: NaN and Infinity forces were accepted.
    expect(parseError(cols + 'H 0 0 0 0 NaN 0\n').problem).toBe('column "forces" value "NaN" is not a finite number');
    expect(parseError(cols + 'H 0 0 0 0 -inf 0\n').problem).toBe('column "forces" value "-inf" is not a finite number');
    expect(parseError(cols + 'H 0 0 0 0 1e400 0\n').problem).toBe('column "forces" value "1e400" is not a finite number');
    expect(parseError('1\nenergy=1e999\nH 0 0 0\n').problem).toBe('info key "energy" has the value "1e999", which is not a finite number');
    expect(parseError('1\nenergy=nan\nH 0 0 0\n').problem).toBe('info key "energy" has the value "nan", which is not a finite number');
    expect(parseError('1\nstress="1 2 inf"\nH 0 0 0\n').problem).toContain('"inf", which is not a finite number');
    // Integers that do not fit the Int32Array they go into were wrapped silently.
    expect(parseError('1\nProperties=species:S:1:pos:R:3:tags:I:1\nH 0 0 0 99999999999\n').problem).toContain(
      'is not a whole number between',
    );
  });

  it('decodes _JSON values as ASE writes them', () => {
    const text =
      '1\nfreq="_JSON [1341.3, 1562.7]" d="_JSON {\\"a\\": [1, 2], \\"b\\": \\"x y\\"}" e="_JSON \\"\\"" ' +
      'n="_JSON [[1, 2], [3, 4]]" bad="_JSON"\nH 0 0 0\n';
    const [s] = readXyz(text, 'j.xyz');
    expect(s.info!.freq).toEqual([1341.3, 1562.7]);
    expect(s.info!.d).toEqual({ a: [1, 2], b: 'x y' });
    expect(s.info!.e).toBe('');
    expect(s.info!.n).toEqual([[1, 2], [3, 4]]);
    expect(s.info!.bad).toBe('_JSON');
    expect(parseError('1\nk="_JSON [1, 2"\nH 0 0 0\n').problem).toMatch(/^info key "k": the _JSON value is not valid JSON/);
    // Found by the fuzz test: JSON.parse turns 1e999 into Infinity.
    expect(parseError('1\nk="_JSON [1, -1e999]"\nH 0 0 0\n').problem).toBe(
      'info key "k": the _JSON value holds a number that is not finite (e.g. 1e999)',
    );
    expect(parseError('1\nk="_JSON {\\"a\\": {\\"b\\": 1e400}}"\nH 0 0 0\n').problem).toContain('not finite');
    // JSON.parse recurses per level: a deep value is refused before it can overflow the stack.
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    expect(parseError(`1\nk="_JSON ${deep}"\nH 0 0 0\n`).problem).toContain('nests deeper than 64 levels');
  });

  it('reads info values as ASE does: boolean lists, values with "=", spaces around "=", escapes', () => {
    const [s] = readXyz('1\nflags="T F T" inchi=InChI=1S/H2O/h1H2 a = 1 b= "x \\" y" c=\'\' __proto__=5\nH 0 0 0\n', 'a.xyz');
    expect(s.info!.flags).toEqual([true, false, true]);
    expect(s.info!.inchi).toBe('InChI=1S/H2O/h1H2');
    expect(s.info!.a).toBe(1);
    expect(s.info!.b).toBe('x " y');
    expect(s.info!.c).toBe('');
    // A key named __proto__ is an ordinary key, not the object's prototype.
    expect(Object.getOwnPropertyDescriptor(s.info, '__proto__')?.value).toBe(5);
    expect(Object.getPrototypeOf(s.info)).toBe(Object.prototype);
    const [t] = readXyz('1\nProperties=species:S:1:pos:R:3:__proto__:R:1\nH 0 0 0 2.5\n', 'a.xyz');
    expect(Array.from(Object.getOwnPropertyDescriptor(t.arrays, '__proto__')?.value as Float64Array)).toEqual([2.5]);
  });

  it('keeps messages short when they quote a huge value', () => {
    const big = 'x'.repeat(1_000_000);
    const e = parseError(`1\nProperties=${big}\nH 0 0 0\n`);
    expect(e.problem).toBe(`Properties="${'x'.repeat(60)}… (1000000 characters)" must be name:type:count triples (e.g. species:S:1:pos:R:3)`);
    expect(parseError(`1\npbc="${big}"\nH 0 0 0\n`).problem.length).toBeLessThan(200);
    expect(parseError(`1\nLattice="1 0 0 0 1 0 0 0 ${big}"\nH 0 0 0\n`).problem.length).toBeLessThan(200);
  });

  it('parses a 10 MB comment line in linear time (timed by hand: see the report of issue 12)', () => {
    const M = 10_000_000;
    const manyKeys = readXyz(`1\n${'a=1 '.repeat(M / 4)}b="x y"\nH 0 0 0\n`, 'big.xyz')[0];
    expect(manyKeys.info).toEqual({ a: 1, b: 'x y' });
    const longValue = readXyz(`1\nk="${'x '.repeat(M / 20)}" e=2\nH 0 0 0\n`, 'big.xyz')[0];
    expect((longValue.info!.k as string).length).toBe(M / 10);
    expect(longValue.info!.e).toBe(2);
    const numbers = readXyz(`1\nk="_JSON [${'1,'.repeat(M / 20)}1]"\nH 0 0 0\n`, 'big.xyz')[0];
    expect((numbers.info!.k as number[]).length).toBe(M / 20 + 1);
  }, 60_000);
});

describe('writeExtXyz: files ASE and readXyz both read back (issue 12)', () => {
  const tricky: Structure = {
    numbers: Int32Array.from([8, 1]),
    positions: Float64Array.from([0.1, 0.2, 0.3, 1e-7, -2.5, 3]),
    cell: Float64Array.from([5, 0, 0, 1, 6, 0, 0.5, 0.25, 7]),
    pbc: [true, true, true],
    charge: 0,
    spin: 1,
    info: {
      empty: '',
      spaced: 'two  words, and "quotes"',
      backslash: 'C:\\path\\file',
      numeric: '1.5',
      truthy: 'T',
      json_prefix: '_JSON 1',
      multiline: 'line one\nline two',
      one: [7],
      nested: { a: [1, 2], b: 'x y' },
      flags: [true, false],
      'key with space': 3,
    },
    arrays: { labels: ['O1', 'H_2'], forces: Float64Array.from([0.5, 0, -0.5, 1, 2, 3]), 'site id': Int32Array.from([7, -8]) },
  };

  it('round-trips empty, spaced, numeric-looking and multi-line strings, lists and JSON through readXyz', () => {
    const [s] = readXyz(writeExtXyz(tricky), 'out.extxyz');
    expect(s.info).toEqual(tricky.info);
    expect(s.arrays!.labels).toEqual(['O1', 'H_2']);
    expect(Array.from(s.arrays!['site id'] as Int32Array)).toEqual([7, -8]);
  });

  it('writes them so that ASE reads the same values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xyz-'));
    const path = join(dir, 'tricky.extxyz');
    writeFileSync(path, writeExtXyz(tricky));
    const script = [
      'import sys, json, ase.io, numpy as np',
      'a = ase.io.read(sys.argv[1])',
      'conv = lambda v: v.tolist() if isinstance(v, np.ndarray) else (v.item() if isinstance(v, np.generic) else v)',
      'print(json.dumps({"info": {k: conv(v) for k, v in a.info.items()}, "labels": a.arrays["labels"].tolist(), "site": a.arrays["site id"].tolist(),',
      '  "pos": a.positions.ravel().tolist(), "cell": a.cell.array.ravel().tolist()}))',
    ].join('\n');
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }));
    expect(out.info).toEqual({ ...tricky.info, charge: 0, spin: 1 });
    expect(out.labels).toEqual(['O1', 'H_2']);
    expect(out.site).toEqual([7, -8]);
    expect(out.pos).toEqual(Array.from(tricky.positions));
    expect(out.cell).toEqual(Array.from(tricky.cell!));
  });

  it('refuses what extXYZ cannot hold, naming it', () => {
    const withArrays = (arrays: Structure['arrays']): Structure => ({ ...tricky, info: {}, arrays });
    expect(() => writeExtXyz(withArrays({ labels: ['O 1', 'H'] }))).toThrow(StructureWriteError);
    expect(() => writeExtXyz(withArrays({ labels: ['O 1', 'H'] }))).toThrow(
      'cannot write extXYZ: per-atom array "labels" value "O 1" (entry 0) is empty or has whitespace, which an atom line cannot hold',
    );
    expect(() => writeExtXyz(withArrays({ labels: ['', 'H'] }))).toThrow(/value "" \(entry 0\) is empty/);
    expect(() => writeExtXyz(withArrays({ forces: Float64Array.from([0, 0, Number.NaN, 0, 0, 0]) }))).toThrow(
      'per-atom array "forces" entry 2 is NaN, not a finite number',
    );
    expect(() => writeExtXyz(withArrays({ 'a:b': Float64Array.from([1, 2]) }))).toThrow(
      'per-atom array "a:b" has a name extXYZ cannot hold (empty, or with ":" or a line break)',
    );
    // Other characters go inside a quoted Properties value (found by the fuzz test: "m olid", "type]").
    const odd = withArrays({ 'm olid': Int32Array.from([1, 2]), 'type]"': ['a', 'b'] });
    expect(readXyz(writeExtXyz(odd), 'odd.extxyz')[0].arrays).toEqual(odd.arrays);
    expect(() => writeExtXyz(withArrays({ short: Float64Array.from([1, 2, 3]) }))).toThrow(/3 values, not a multiple of the 2 atoms/);
    expect(() => writeExtXyz({ ...tricky, arrays: {}, info: { energy: Number.POSITIVE_INFINITY } })).toThrow(
      'info key "energy" is Infinity, not a finite number',
    );
    expect(() => writeExtXyz({ ...tricky, arrays: {}, info: {}, positions: Float64Array.from([0, 0, 0, 0, Number.NaN, 0]) })).toThrow(
      'atom 1 has a non-finite y position (NaN)',
    );
  });
});
