// The default model and the organics model (charge/spin embedding) on WebGPU (float32) against their export-time
// held-out frames
// (test/fixtures/shipped/<dir>.case.json: the PyTorch reference's float64 outputs of the shipped weights, with the
// frame's own charge and spin), the same tolerances as the fixture tests: 1e-5 relative in energy, 1e-4 norm-wise in
// forces and stress. The float64 CPU runtime checks every listed model's case in test/cpu/shippedModels.test.ts; here
// the other three (older water, the two ionic-gas models: no new kernel variants) would add ~80 s of SwiftShader
// compiles to CI for nothing the fixture tests do not already cover.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuModel } from '../../src/gpu/model';
import type { Structure } from '../../src/io/structure';
import { loadModelFromPath } from '../../src/model/loadNode';
import { relErr, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const index = JSON.parse(readFileSync('public/models/index.json', 'utf8')) as { default: string; models: { dir: string }[] };
const checked = [index.default, 'organics-gfn2-small'];

describe('shipped models on WebGPU vs the PyTorch reference (held-out frame)', () => {
  it('both are listed', () => expect(index.models.map((m) => m.dir)).toEqual(expect.arrayContaining(checked)));
  for (const dir of checked) {
    it(dir, async () => {
      const c = JSON.parse(readFileSync(`test/fixtures/shipped/${dir}.case.json`, 'utf8'));
      const i = c.inputs;
      const s: Structure = {
        numbers: Int32Array.from(i.numbers), positions: Float64Array.from((i.positions as number[][]).flat()),
        cell: i.cell ? Float64Array.from((i.cell as number[][]).flat()) : null, pbc: [i.pbc[0], i.pbc[1], i.pbc[2]],
        charge: i.charge, spin: i.spin,
      };
      const model = await loadModelFromPath(`public/models/${dir}`);
      const r = await new GpuModel(gpu!.rt, model).compute(s);
      const want = c.outputs;
      expect(Math.abs(r.energy - want.energy) / Math.abs(want.energy)).toBeLessThan(1e-5);
      expect(relErr(r.forces, (want.forces as number[][]).flat())).toBeLessThan(1e-4);
      if (want.stress && i.cell) expect(relErr(r.stress!, (want.stress as number[][]).flat())).toBeLessThan(1e-4);
    }, 600_000);
  }
});
