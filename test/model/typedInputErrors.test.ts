// Out-of-range inputs to the float64 runtime give UnsupportedSystemError naming the atoms, never a bare
// RangeError or a NaN energy: Z past the embedding table, Z past a shorter element-reference list, a charge
// or spin outside the tables, non-finite or missing positions, no atoms.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import { checkChargeSpin } from '../../src/model/systemCheck';
import { loadModelFromPath } from '../../src/model/loadNode';
import { elementReferenceEnergy } from '../../src/model/referenceEnergy';
import { UnsupportedSystemError } from '../../src/model/systemCheck';
import type { Structure } from '../../src/io/structure';

const dir = 'test/fixtures/normalized-refs';
const inputs = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8')).inputs as {
  numbers: number[]; positions: number[][]; cell: number[][] | null; pbc: boolean[]; charge: number; spin: number;
};
const water: Structure = {
  numbers: Int32Array.from(inputs.numbers), positions: Float64Array.from(inputs.positions.flat()),
  cell: inputs.cell ? Float64Array.from(inputs.cell.flat()) : null, pbc: [inputs.pbc[0], inputs.pbc[1], inputs.pbc[2]],
  charge: inputs.charge, spin: inputs.spin,
};

function refusal(fn: () => unknown): UnsupportedSystemError {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(UnsupportedSystemError);
    return e as UnsupportedSystemError;
  }
  throw new Error('expected an UnsupportedSystemError');
}

describe('typed errors for out-of-range inputs (float64 runtime)', () => {
  it('Z inside the embedding table but past the element references: refused before compute, atoms named', async () => {
    const model = await loadModelFromPath(dir);
    const refs = model.config.normalization.element_references!;
    expect(refs.length).toBeLessThan(model.config.architecture.max_num_elements);
    const numbers = Int32Array.from(water.numbers); numbers[4] = refs.length; numbers[7] = refs.length + 5;
    const e = refusal(() => computeCpu(model, { ...water, numbers }));
    expect(e.problems[0].kind).toBe('element-outside-model');
    expect(e.problems[0].atoms).toEqual([4, 7]);
    expect(e.message).toMatch(new RegExp(`atom 4 \\(Z = ${refs.length}\\)`));
  });

  it('elementReferenceEnergy: the sum of the listed references, none when the model has none', () => {
    expect(elementReferenceEnergy([0, -13.6, 0, -5], [1, 3, 1], 'm')).toBeCloseTo(-32.2, 12);
    expect(elementReferenceEnergy(null, [1, 200], 'm')).toBe(0);
    expect(refusal(() => elementReferenceEnergy([0, -13.6], [1, 1.5], 'm')).problems[0].atoms).toEqual([1]);
  });

  it('Z outside the embedding table, charge and spin: one error listing every problem', async () => {
    const model = await loadModelFromPath(dir);
    const arch = model.config.architecture;
    const numbers = Int32Array.from(water.numbers); numbers[0] = 0; numbers[2] = arch.max_num_elements;
    const e = refusal(() => checkChargeSpin(numbers, { charge: 101, spin: -1 }, arch));
    expect(e.problems.map((p) => p.kind)).toEqual(['element-outside-model', 'charge', 'spin']);
    expect(e.problems[0].atoms).toEqual([0, 2]);
    expect(e.message).toMatch(/atom 0 has atomic number 0/);
    expect(refusal(() => computeCpu(model, { ...water, charge: 0.5 })).problems[0].kind).toBe('charge');
  });

  it('positions: non-finite, wrong length, no atoms', async () => {
    const model = await loadModelFromPath(dir);
    const nan = Float64Array.from(water.positions); nan[7] = Infinity;
    expect(refusal(() => computeCpu(model, { ...water, positions: nan })).problems[0]).toMatchObject({ kind: 'non-finite-position', atoms: [2] });
    expect(refusal(() => computeCpu(model, { ...water, positions: water.positions.subarray(3) })).problems[0].kind).toBe('positions-length');
    expect(refusal(() => computeCpu(model, { ...water, numbers: new Int32Array(0), positions: new Float64Array(0) })).problems[0].kind).toBe('no-atoms');
  });
});
