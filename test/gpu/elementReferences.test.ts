// The WebGPU runtime refuses an atom without an element reference energy (it added `undefined`: a NaN
// energy, exit 0) with the float64 runtime's UnsupportedSystemError, in compute and in the MD energy offset.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuModel } from '../../src/gpu/model';
import { loadModelFromPath } from '../../src/model/loadNode';
import { UnsupportedSystemError } from '../../src/model/systemCheck';
import type { Structure } from '../../src/io/structure';
import { setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

describe('WebGPU element references', () => {
  it('an atom past the reference list is refused, not a NaN energy', async () => {
    const dir = 'test/fixtures/normalized-refs';
    const model = await loadModelFromPath(dir);
    const c = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8')).inputs;
    const refs = model.config.normalization.element_references!;
    const numbers = Int32Array.from(c.numbers as number[]); numbers[1] = refs.length;
    const s: Structure = {
      numbers, positions: Float64Array.from((c.positions as number[][]).flat()),
      cell: c.cell ? Float64Array.from((c.cell as number[][]).flat()) : null, pbc: c.pbc, charge: c.charge, spin: c.spin,
    };
    const gm = new GpuModel(gpu!.rt, model);
    expect(() => gm.energyOffset(numbers)).toThrow(UnsupportedSystemError);
    await expect(gm.compute(s)).rejects.toThrow(UnsupportedSystemError);
    await expect(gm.compute(s)).rejects.toThrow(/atom 1 \(Z = \d+\)/);
  });
});
