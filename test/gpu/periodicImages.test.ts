// The WebGPU model refuses a cell too thin for the cutoff at graph planning, before any kernel runs (issue 12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeriodicImageError } from '../../src/geometry/periodicImages';
import { GpuModel } from '../../src/gpu/model';
import type { Structure } from '../../src/io/structure';
import { loadModelFromPath } from '../../src/model/loadNode';
import { setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

describe('WebGPU periodic image bound', () => {
  it('a 10×10×0.05 Å water cell is refused with PeriodicImageError before any kernel runs', async () => {
    const model = await loadModelFromPath('public/models/water-spcfw-small');
    const water = (c: number): Structure => ({
      numbers: Int32Array.of(8, 1, 1), positions: Float64Array.of(0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0),
      cell: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, c), pbc: [true, true, true], charge: 0, spin: 1,
    });
    const gm = new GpuModel(gpu!.rt, model);
    const err = await gm.compute(water(0.05)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeriodicImageError);
    expect((err as Error).message).toMatch(/heights are 10, 10, 0\.05 Å.*2,169 images in all/);
    // (that the same model computes an ordinary cell on WebGPU is test/gpu/model.test.ts's job)
  });
});
