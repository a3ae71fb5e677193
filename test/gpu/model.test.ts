// Whole-model energy, forces and stress on WebGPU against the committed float64 fixtures (PyTorch
// reference and the public-code golden cases): 1e-5 relative in energy, 1e-4 norm-wise in forces.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuModel } from '../../src/gpu/model';
import { loadModelFromPath } from '../../src/model/loadNode';
import type { Structure } from '../../src/io/structure';
import { relErr, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const index = JSON.parse(readFileSync('test/fixtures/index.json', 'utf8')) as { cases: { name: string; flags: { forces: string } }[] };
const cases = index.cases.filter((c) => c.flags.forces === 'conservative').map((c) => c.name);

function structureOf(inputs: { numbers: number[]; positions: number[][]; cell: number[][] | null; pbc: boolean[]; charge: number; spin: number }): Structure {
  return {
    numbers: Int32Array.from(inputs.numbers), positions: Float64Array.from(inputs.positions.flat()),
    cell: inputs.cell ? Float64Array.from(inputs.cell.flat()) : null, pbc: [inputs.pbc[0], inputs.pbc[1], inputs.pbc[2]],
    charge: inputs.charge, spin: inputs.spin,
  };
}

describe('WebGPU AllScAIP vs float64 fixtures', () => {
  for (const name of cases) {
    it(name, async () => {
      const dir = `test/fixtures/${name}`;
      const model = await loadModelFromPath(dir);
      const c = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8'));
      const s = structureOf(c.inputs);
      const r = await new GpuModel(gpu!.rt, model).compute(s);
      const want = c.outputs;
      expect(Math.abs(r.energy - want.energy) / Math.abs(want.energy)).toBeLessThan(1e-5);
      expect(relErr(r.forces, (want.forces as number[][]).flat())).toBeLessThan(1e-4);
      if (want.stress) expect(relErr(r.stress!, (want.stress as number[][]).flat())).toBeLessThan(1e-4);
    });
  }
});

describe('per-stage GPU timestamps', () => {
  it('time every model stage without changing the result', async () => {
    const dir = 'test/fixtures/golden-case3'; // periodic, LAE + ERoPE + node attention
    const model = await loadModelFromPath(dir);
    const s = structureOf(JSON.parse(readFileSync(`${dir}/case.json`, 'utf8')).inputs);
    const rt = gpu!.rt;
    expect(rt.canTime).toBe(true); // SwiftShader and lavapipe both offer timestamp-query
    const plain = await new GpuModel(rt, model).compute(s);
    expect(plain.stageMs).toBeUndefined();
    rt.timing = true;
    try {
      const timed = await new GpuModel(rt, model).compute(s);
      expect(timed.energy).toBe(plain.energy);
      expect(Array.from(timed.forces)).toEqual(Array.from(plain.forces));
      const stages = Object.keys(timed.stageMs!);
      for (const name of ['graph', 'features', 'input block', 'neighborhood attention', 'node attention', 'FFN', 'energy head',
        'backward: node attention', 'backward: edge FFN + neighborhood attention', 'backward: features + graph']) {
        expect(stages).toContain(name);
      }
      const ms = Object.values(timed.stageMs!);
      expect(ms.every((t) => t >= 0 && Number.isFinite(t))).toBe(true);
      expect(ms.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    } finally {
      rt.timing = false;
    }
  });
});
