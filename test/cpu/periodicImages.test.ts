// Periodic images are bounded before any is enumerated (issue 12): a cell too thin for the cutoff, or a
// cutoff absurd for the cell, is refused with the heights, the cutoff and the image count on every backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNeighborGraph } from '../../src/cpu/graph';
import { imageRepeats, MAX_PERIODIC_IMAGES, PeriodicImageError } from '../../src/geometry/periodicImages';
import { computeCpu } from '../../src/cpu/model';
import { graphLayout } from '../../src/gpu/ops/graph';
import { readStructure } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import { loadModelFromPath } from '../../src/model/loadNode';

const ROOT = join(__dirname, '..', '..');
const WATER_MODEL = join(ROOT, 'public/models/water-spcfw-small');

function thinWater(c = 0.05): Structure {
  return {
    numbers: Int32Array.of(8, 1, 1),
    positions: Float64Array.of(0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0),
    cell: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, c),
    pbc: [true, true, true],
    charge: 0,
    spin: 1,
  };
}

function refusal(fn: () => unknown): PeriodicImageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PeriodicImageError);
    return e as PeriodicImageError;
  }
  throw new Error('expected a PeriodicImageError');
}

describe('periodic image bound', () => {
  it('refuses a 10×10×0.05 Å cell with the heights, the cutoff and the image count', () => {
    const e = refusal(() => imageRepeats({ vectors: thinWater().cell!, pbc: [true, true, true] }, 6));
    expect(e.repeats).toEqual([1, 1, 120]);
    expect(e.images).toBe(3 * 3 * 241);
    expect(e.heights.map((h) => Number(h.toPrecision(6)))).toEqual([10, 10, 0.05]);
    expect(e.message).toBe(
      "the cell is too small for the model's 6 Å cutoff: its heights are 10, 10, 0.05 Å, so a cutoff sphere needs " +
        '1, 1, 120 periodic repeats each way, 2,169 images in all; at most 1,331 (11³) are allowed, since every atom ' +
        'meets every image of every atom. Use a supercell with every periodic height ≥ 1.2 Å (cutoff/5), or fix the cell',
    );
  });

  it('refuses a cutoff of 1000 Å on the 64-water box, and degenerate cells, without enumerating', () => {
    const box = readStructure(readFileSync(join(ROOT, 'public/systems/water64_box.xyz'), 'utf8'), 'water64_box.xyz');
    const t0 = performance.now();
    const e = refusal(() => imageRepeats({ vectors: box.cell!, pbc: [true, true, true] }, 1000));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(e.repeats).toEqual([81, 81, 81]);
    expect(e.images).toBe(163 ** 3);
    expect(e.message).toMatch(/heights are 12\.42, 12\.42, 12\.42 Å.*4,330,747 images in all/);
    // a cell whose vectors are parallel, and one 1e-300 Å thin: not a single image is enumerated
    expect(refusal(() => imageRepeats({ vectors: Float64Array.of(10, 0, 0, 10, 0, 0, 0, 0, 10), pbc: [true, true, true] }, 6)).message)
      .toMatch(/infinitely many images/);
    expect(refusal(() => imageRepeats({ vectors: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, 1e-300), pbc: [true, true, true] }, 6)).images)
      .toBeGreaterThan(1e300);
  });

  it('counts only periodic axes, and allows exactly the limit', () => {
    const slab = { vectors: thinWater().cell!, pbc: [true, true, false] as [boolean, boolean, boolean] };
    expect(imageRepeats(slab, 6)).toEqual([1, 1, 0]);
    const edge = { vectors: Float64Array.of(1.2, 0, 0, 0, 1.2, 0, 0, 0, 1.2), pbc: [true, true, true] as [boolean, boolean, boolean] };
    expect(imageRepeats(edge, 6)).toEqual([5, 5, 5]);
    expect(11 ** 3).toBe(MAX_PERIODIC_IMAGES);
  });

  it('the CPU graph and the CPU model refuse the thin cell (before: 2,169 images, E computed for a 0.05 Å cell)', async () => {
    const model = await loadModelFromPath(WATER_MODEL);
    expect(() => buildNeighborGraph(thinWater().positions, { vectors: thinWater().cell!, pbc: [true, true, true] }, model.config.architecture))
      .toThrow(PeriodicImageError);
    expect(() => computeCpu(model, thinWater())).toThrow(PeriodicImageError);
    const far = { ...model, config: { ...model.config, architecture: { ...model.config.architecture, cutoff: 1000 } } };
    const box = readStructure(readFileSync(join(ROOT, 'public/systems/water64_box.xyz'), 'utf8'), 'water64_box.xyz');
    expect(() => computeCpu(far, box)).toThrow(/4,330,747 images in all/);
  });

  it('GPU graph planning refuses them before sizing a buffer', async () => {
    const model = await loadModelFromPath(WATER_MODEL);
    const arch = model.config.architecture;
    expect(() => graphLayout(arch, 3, { vectors: thinWater().cell!, pbc: [true, true, true] })).toThrow(PeriodicImageError);
    expect(() => graphLayout({ ...arch, cutoff: 1000 }, 192, { vectors: Float64Array.of(12.4, 0, 0, 0, 12.4, 0, 0, 0, 12.4), pbc: [true, true, true] }))
      .toThrow(/4,330,747 images/);
    expect(() => graphLayout(arch, 3, { vectors: [10, 0, 0, 10, 0, 0, 0, 0, 10], pbc: [true, true, true] })).toThrow(PeriodicImageError);
    expect(graphLayout(arch, 3, { vectors: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, 10), pbc: [true, true, true] }).numImages).toBe(27);
  });
});
