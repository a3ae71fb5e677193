// A device whose maxStorageBufferBindingSize is smaller than the model's widest per-slot arrays: the runtime
// plans around it (the edge FFN's E × 2H hidden layer as two E × H column halves; neighbourhood attention's
// q, k and v are E × H bindings of their own and the input block has no E × 2H array anyway) and gives the float64 CPU runtime's energy, forces and
// stress; below what it can plan around (one E × H array) it refuses with DeviceLimitError naming the tensor.
// The limit is simulated (GpuRuntime.maxBinding): a device cannot be asked for less than WebGPU's 128 MiB.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import { DeviceLimitError } from '../../src/gpu/errors';
import { GpuModel } from '../../src/gpu/model';
import type { Structure } from '../../src/io/structure';
import { loadModelFromPath } from '../../src/model/loadNode';
import { relErr, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

// The shipped default model (H 64, 4 heads, LAE + ERoPE + node attention; its SH table, 36 per slot, is
// narrower than H, as the fixtures' 100 are not) on the 24-atom periodic water box of a fixture.
const dir = 'public/models/water-spcfw-smooth';

function structure(): Structure {
  const c = JSON.parse(readFileSync('test/fixtures/normalized-refs/case.json', 'utf8')).inputs;
  return {
    numbers: Int32Array.from(c.numbers), positions: Float64Array.from((c.positions as number[][]).flat()),
    cell: Float64Array.from((c.cell as number[][]).flat()), pbc: c.pbc, charge: c.charge, spin: c.spin,
  };
}

describe('WebGPU model under a small storage-binding limit', () => {
  it('splits the edge FFN\'s hidden layer in halves, and matches the float64 CPU runtime (E 1e-5, F and stress 1e-4)', async () => {
    const rt = gpu!.rt;
    const model = await loadModelFromPath(dir);
    const s = structure(), n = s.numbers.length, H = model.config.architecture.hidden_size;
    const gm = new GpuModel(rt, model);
    const K = await gm.slotBudget(s, rt.upload('test.positions', Float32Array.from(s.positions)));
    const full = await gm.compute(s, { slots: K });
    // room for one E × H array and a bit (E × 1.6H): the edge FFN's hidden layer (E × 2H) runs as two halves
    const limit = Math.floor(4 * n * K * H * 1.6);
    const allocatedBefore = rt.allocatedBytes;
    rt.maxBinding = limit;
    try {
      expect(4 * n * K * 2 * H).toBeGreaterThan(limit);
      expect(4 * n * K * H).toBeLessThanOrEqual(limit);
      const got = await gm.compute(s, { slots: K });
      // the full-length ERoPE bias tables (2 MiB each) are freed when their shorter copies replace them
      expect(rt.allocatedBytes).toBeLessThan(allocatedBefore);
      const want = computeCpu(model, s, { stress: true });
      expect(want.stress).not.toBeNull();
      const eE = Math.abs(got.energy - want.energy) / Math.abs(want.energy);
      const eF = relErr(got.forces, want.forces), eS = relErr(got.stress!, want.stress!);
      console.log(`binding limit ${limit} B (K ${K}, edge FFN in halves): |ΔE|/|E| ${eE.toExponential(2)}, ` +
        `‖ΔF‖/‖F‖ ${eF.toExponential(2)}, stress ${eS.toExponential(2)}; vs unchunked GPU ΔE ${Math.abs(got.energy - full.energy).toExponential(2)} eV, ` +
        `‖ΔF‖/‖F‖ ${relErr(got.forces, full.forces).toExponential(2)}`);
      expect(eE).toBeLessThan(1e-5);
      expect(eF).toBeLessThan(1e-4);
      expect(eS).toBeLessThan(1e-4);
    } finally {
      rt.maxBinding = null;
    }
  }, 600_000);

  it('refuses a limit below one E × H array with DeviceLimitError naming the tensor and the sizes', async () => {
    const rt = gpu!.rt;
    const model = await loadModelFromPath(dir);
    const s = structure(), n = s.numbers.length, H = model.config.architecture.hidden_size;
    const gm = new GpuModel(rt, model);
    const K = await gm.slotBudget(s, rt.upload('test.positions', Float32Array.from(s.positions)));
    const limit = 4 * n * K * H - 256;
    rt.maxBinding = limit;
    try {
      const err = await gm.compute(s, { slots: K }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceLimitError);
      const e = err as DeviceLimitError;
      expect(e.limit).toBe('maxStorageBufferBindingSize');
      expect(e.available).toBe(limit);
      expect(e.required).toBeGreaterThan(limit);
      expect(e.message).toMatch(/(tensor|buffer) "[^"]+".* needs \d+, this adapter allows at most \d+/);
    } finally {
      rt.maxBinding = null;
    }
  }, 600_000);
});
