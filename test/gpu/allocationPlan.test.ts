// Memory of energy + forces grows linearly in N: every buffer the WebGPU runtime allocates for a
// 20,000-atom system is at most twice its size for 10,000 atoms, up to 1 MiB of rounding (cell-list
// grids grow with whole cells), so no buffer is N×N (that would be 4× — 1.6 GB at 20,000 atoms).
import { describe, expect, it } from 'vitest';
import { planAllocation } from '../../src/gpu/allocationPlan';
import { loadModelFromPath } from '../../src/model/loadNode';

describe('allocation plan of the WebGPU runtime', () => {
  it('stays linear in N up to 20,000 atoms (released flags, k = 30, 50 candidates)', async () => {
    const model = await loadModelFromPath('test/fixtures/golden-case2');
    const [p5, p10, p20] = await Promise.all([5000, 10000, 20000].map((n) => planAllocation(model, n)));
    for (const [name, bytes] of p20.buffers) {
      const half = p10.buffers.get(name)!;
      expect(bytes, name).toBeLessThanOrEqual(2.01 * half + 2 ** 20);
    }
    const growth = (p20.totalBytes - p10.totalBytes) / (p10.totalBytes - p5.totalBytes);
    expect(growth).toBeGreaterThan(1.98);
    expect(growth).toBeLessThan(2.02);
    // ~ bytes per atom, for the record
    expect((p20.totalBytes - p10.totalBytes) / 10000).toBeLessThan(2e6);
  });
});
