// The WebGPU AllScAIP force provider writes the engine's force/output buffers: same numbers as the
// float64 CPU provider (src/md/allscaipCpu.ts) on a periodic fixture, to float32 accuracy.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllScaipWebGpu } from '../../src/gpu/forceProvider';
import { AllScaipCpu } from '../../src/md/allscaipCpu';
import { boxData, OUTPUT_FLOATS } from '../../src/md/forceProvider';
import { loadModelFromPath } from '../../src/model/loadNode';
import { relErr, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

describe('AllScAIP WebGPU force provider', () => {
  it('matches the float64 CPU provider (energy, forces, virial) on a triclinic periodic system', async () => {
    const dir = 'test/fixtures/triclinic-pbc';
    const model = await loadModelFromPath(dir);
    const c = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8'));
    const numbers = Int32Array.from(c.inputs.numbers as number[]);
    const positions = Float64Array.from((c.inputs.positions as number[][]).flat());
    const cell = Float64Array.from((c.inputs.cell as number[][]).flat());
    const pbc = c.inputs.pbc as [boolean, boolean, boolean];
    const n = numbers.length;
    const want = new AllScaipCpu(model, numbers, c.inputs.charge, c.inputs.spin).compute(positions, cell, pbc, true);

    const device = gpu!.ctx.device;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const mk = (bytes: number) => device.createBuffer({ size: bytes, usage });
    const pos4 = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) pos4[4 * i + k] = positions[3 * i + k];
    const target = { device, numAtoms: n, numbers, pbc, positions: mk(16 * n), forces: mk(16 * n), box: mk(64), output: mk(4 * OUTPUT_FLOATS) };
    device.queue.writeBuffer(target.positions, 0, pos4);
    device.queue.writeBuffer(target.box, 0, boxData(cell, pbc));
    const provider = new AllScaipWebGpu(model, c.inputs.charge, c.inputs.spin);
    await provider.attach(target);
    await provider.evaluate();
    const f4 = await gpu!.rt.read(target.forces, 4 * n);
    const out = await gpu!.rt.read(target.output, OUTPUT_FLOATS);
    provider.destroy();
    const forces = Float64Array.from({ length: 3 * n }, (_, i) => f4[4 * Math.floor(i / 3) + (i % 3)]);
    expect(Math.abs(out[0] - want.energy) / Math.abs(want.energy)).toBeLessThan(1e-5);
    expect(relErr(forces, want.forces)).toBeLessThan(1e-4);
    expect(out[10]).toBe(1);
    expect(relErr(out.subarray(1, 10), want.virial!)).toBeLessThan(1e-4);
  });
});
