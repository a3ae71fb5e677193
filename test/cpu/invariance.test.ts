// Symmetries the model must have exactly: translation, permutation, batching.
import { describe, expect, it } from 'vitest';
import { computeCpu, computeCpuBatch } from '../../src/cpu/model';
import { goldenModel, goldenStructure, readGolden } from '../helpers/golden';
import { randomCluster, withCell } from '../helpers/systems';
import type { Structure } from '../../src/io/structure';

const model = goldenModel(readGolden('case1_water8_allflags'));
const water = goldenStructure(readGolden('case1_water8_allflags'));
const box = goldenStructure(readGolden('case3_waterbox12_pbc_allflags'));

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const translate = (s: Structure, t: number[]): Structure => ({
  ...s, positions: s.positions.map((v, i) => v + t[i % 3]),
});

describe('invariances of the CPU runtime', () => {
  it('translation: energy and forces unchanged to 1e-12 (molecule)', () => {
    const a = computeCpu(model, water);
    const b = computeCpu(model, translate(water, [3.7, -12.1, 0.45]));
    expect(Math.abs(a.energy - b.energy)).toBeLessThan(1e-12 * Math.abs(a.energy));
    expect(maxAbs(a.forces, b.forces)).toBeLessThan(1e-12);
  });

  it('translation across periodic boundaries (wrapped into the cell)', () => {
    const a = computeCpu(model, box, { stress: true });
    const b = computeCpu(model, translate(box, [0.37, -1.21, 2.05]), { stress: true });
    expect(Math.abs(a.energy - b.energy)).toBeLessThan(1e-12 * Math.abs(a.energy));
    expect(maxAbs(a.forces, b.forces)).toBeLessThan(1e-12);
    expect(maxAbs(a.stress!, b.stress!)).toBeLessThan(1e-12);
  });

  it('permuting atoms permutes forces', () => {
    const n = water.numbers.length;
    const perm = Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);
    const permuted: Structure = {
      ...water,
      numbers: Int32Array.from(perm.map((p) => water.numbers[p])),
      positions: Float64Array.from(perm.flatMap((p) => [0, 1, 2].map((q) => water.positions[3 * p + q]))),
    };
    const a = computeCpu(model, water);
    const b = computeCpu(model, permuted);
    expect(Math.abs(a.energy - b.energy)).toBeLessThan(1e-12 * Math.abs(a.energy));
    let err = 0;
    perm.forEach((p, i) => { for (let q = 0; q < 3; q++) err = Math.max(err, Math.abs(b.forces[3 * i + q] - a.forces[3 * p + q])); });
    expect(err).toBeLessThan(1e-12);
  });

  it('two systems in one batch give the same results as each alone', () => {
    const other = withCell(randomCluster(9, 5, 1.0, 3), [6, 0, 0, 0, 6.5, 0, 0, 0, 7]);
    const [ra, rb] = computeCpuBatch(model, [water, other], { stress: true });
    const a = computeCpu(model, water), b = computeCpu(model, other, { stress: true });
    expect(ra.energy).toBe(a.energy);
    expect(rb.energy).toBe(b.energy);
    expect(maxAbs(ra.forces, a.forces)).toBe(0);
    expect(maxAbs(rb.stress!, b.stress!)).toBe(0);
  });

  it('rejects bad inputs with a message naming the problem', () => {
    expect(() => computeCpu(model, { ...water, numbers: Int32Array.from(water.numbers).fill(0, 0, 1) })).toThrow(/atom 0 has atomic number 0/);
    expect(() => computeCpu(model, { ...water, charge: 101 })).toThrow(/charge 101/);
    const nan = Float64Array.from(water.positions); nan[4] = NaN;
    expect(() => computeCpu(model, { ...water, positions: nan })).toThrow(/atom 1 has a non-finite coordinate/);
    const overlap = Float64Array.from(water.positions); overlap.set(overlap.subarray(0, 3), 9);
    expect(() => computeCpu(model, { ...water, positions: overlap })).toThrow(/atoms 0 and 3 sit on the same point/);
  });
});
