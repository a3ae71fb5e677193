// The WebGPU AllScAIP force provider writes the engine's force/output buffers: same numbers as the
// float64 CPU provider (src/md/allscaipCpu.ts), GPU-resident (a frozen program replayed in the engine's pass)
// and through the host round trip (evaluate); NPT follows the barostat's box changes (syncBox); a slot budget
// that is too small is reported through the output buffer, and an MD run stops on it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllScaipWebGpu, type AllScaipWebGpuOptions } from '../../src/gpu/forceProvider';
import { AllScaipCpu } from '../../src/md/allscaipCpu';
import { boxData, CpuProviderOnGpu, OUTPUT_FLOATS } from '../../src/md/forceProvider';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { checkSample } from '../../src/md/safety';
import { systemFromStructure } from '../../src/md/setup';
import { DEFAULT_SETTINGS, degreesOfFreedom, type MdSettings, type Sample } from '../../src/md/types';
import type { LoadedModel } from '../../src/model/config';
import { loadModelFromPath } from '../../src/model/loadNode';
import type { Structure } from '../../src/io/structure';
import { relErr, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

function fixture(dir: string): Structure {
  const c = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8')).inputs;
  return {
    numbers: Int32Array.from(c.numbers), positions: Float64Array.from((c.positions as number[][]).flat()),
    cell: c.cell ? Float64Array.from((c.cell as number[][]).flat()) : null, pbc: c.pbc, charge: c.charge, spin: c.spin,
  };
}

/** One force call of the provider on the engine-shaped buffers; returns forces (N×3) and the output words. */
async function evaluate(model: LoadedModel, s: Structure, resident: boolean, options: AllScaipWebGpuOptions = {}) {
  const device = gpu!.ctx.device, n = s.numbers.length;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const mk = (bytes: number) => device.createBuffer({ size: bytes, usage });
  const pos4 = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) pos4[4 * i + k] = s.positions[3 * i + k];
  const target = { device, numAtoms: n, numbers: s.numbers, pbc: s.pbc, positions: mk(16 * n), forces: mk(16 * n), box: mk(64), output: mk(4 * OUTPUT_FLOATS) };
  device.queue.writeBuffer(target.positions, 0, pos4);
  device.queue.writeBuffer(target.forces, 0, new Float32Array(4 * n).fill(NaN));
  device.queue.writeBuffer(target.box, 0, boxData(s.cell, s.pbc));
  const provider = new AllScaipWebGpu(model, s.charge, s.spin, options);
  await provider.attach(target);
  if (resident) {
    // twice, as in two MD steps: the health words are sticky
    for (let rep = 0; rep < 2; rep++) {
      const enc = device.createCommandEncoder();
      provider.encode(enc);
      device.queue.submit([enc.finish()]);
    }
  } else await provider.evaluate();
  const f4 = await gpu!.rt.read(target.forces, 4 * n);
  const out = await gpu!.rt.read(target.output, OUTPUT_FLOATS);
  const message = provider.describeOutput(out);
  const slots = provider.slots;
  provider.destroy();
  for (const b of [target.positions, target.forces, target.box, target.output]) b.destroy();
  const forces = Float64Array.from({ length: 3 * n }, (_, i) => f4[4 * Math.floor(i / 3) + (i % 3)]);
  return { forces, out, message, slots };
}

describe('AllScAIP WebGPU force provider', () => {
  const dir = 'test/fixtures/triclinic-pbc';

  for (const resident of [true, false]) {
    it(`matches the float64 CPU provider (energy, forces, virial) on a triclinic periodic system, ${resident ? 'GPU-resident' : 'host round trip'}`, async () => {
      const model = await loadModelFromPath(dir);
      const s = fixture(dir);
      const want = new AllScaipCpu(model, s.numbers, s.charge, s.spin).compute(s.positions, s.cell, s.pbc, true);
      const got = await evaluate(model, s, resident);
      expect(Math.abs(got.out[0] - want.energy) / Math.abs(want.energy)).toBeLessThan(1e-5);
      expect(relErr(got.forces, want.forces)).toBeLessThan(1e-4);
      expect(got.out[10]).toBe(1);
      expect(relErr(got.out.subarray(1, 10), want.virial!)).toBeLessThan(1e-4);
      expect(got.message).toBeNull();
      if (resident) {
        // K = measured largest edge count + margin 4, capped by the budget that never overflows
        expect(got.out[11]).toBeGreaterThan(1);
        expect(got.slots).toBeGreaterThanOrEqual(got.out[11]);
        expect(got.out[12]).toBe(0);
        expect(got.out[13]).toBe(got.slots);
      }
    });
  }

  it('reports a slot budget smaller than the graph needs (sticky over steps) and names both numbers', async () => {
    const model = await loadModelFromPath(dir);
    const got = await evaluate(model, fixture(dir), true, { slots: 2 });
    expect(got.out[11]).toBeGreaterThan(2);
    expect(got.out[12]).toBe(2); // both replayed steps overflowed
    expect(got.message).toMatch(new RegExp(`needed ${got.out[11]} slots .* slot budget K is 2`));
  });
});

describe('AllScAIP WebGPU provider in the MD engine', () => {
  const dir = 'test/fixtures/molecule-released-flags'; // 6 H2O, random-weight model

  async function run(provider: AllScaipWebGpu | CpuProviderOnGpu, steps: number, settings: Partial<MdSettings> = {}, from = dir) {
    const s = fixture(from);
    const sys = systemFromStructure(s, { temperature: 300, seed: 3 });
    const e = await GpuMdEngine.create(gpu!.ctx.device, sys, provider, { ...DEFAULT_SETTINGS, dt: 0.25, ...settings });
    const samples: Sample[] = [];
    await e.run(steps, { sampleEvery: 5, onSample: (q) => { samples.push(q); } });
    e.destroy(); // and the provider it owns
    return { samples, sys };
  }

  it('GPU-resident velocity Verlet follows the float64 host round trip step for step', async () => {
    const model = await loadModelFromPath(dir);
    const s = fixture(dir);
    const resident = new AllScaipWebGpu(model, s.charge, s.spin);
    const a = await run(resident, 20);
    expect(resident.resident).toBe(true);
    const b = await run(new CpuProviderOnGpu(new AllScaipCpu(model, s.numbers, s.charge, s.spin)), 20);
    expect(a.samples.length).toBe(4);
    for (let i = 0; i < a.samples.length; i++) {
      const p = a.samples[i], q = b.samples[i];
      expect(p.step).toBe(q.step);
      expect(Math.abs(p.epot - q.epot)).toBeLessThan(1e-4 * Math.max(1, Math.abs(q.epot)));
      expect(relErr(p.positions, q.positions)).toBeLessThan(1e-5);
      expect(relErr(p.forces, q.forces)).toBeLessThan(1e-3);
      expect(p.providerFault).toBeNull();
    }
  });

  it('a run whose graph overflows the slot budget stops with the provider message', async () => {
    const model = await loadModelFromPath(dir);
    const s = fixture(dir);
    const { samples, sys } = await run(new AllScaipWebGpu(model, s.charge, s.spin, { slots: 2 }), 5);
    const err = checkSample(samples[0], sys.numbers, sys.masses, degreesOfFreedom('nve', sys.numbers.length),
      { maxForce: 1e9, maxTemperature: 1e9 });
    expect(err?.message).toMatch(/slot budget K is 2/);
  });

  it('NPT: the resident program follows the Monte Carlo barostat\'s box (same volumes and positions as the float64 host path)', async () => {
    const npt = 'test/fixtures/triclinic-pbc';
    const model = await loadModelFromPath(npt);
    const s = fixture(npt);
    const settings: Partial<MdSettings> = { ensemble: 'npt', temperature: 300, pressure: 1e4, barostatInterval: 2, seed: 5 };
    const a = await run(new AllScaipWebGpu(model, s.charge, s.spin), 10, settings, npt);
    const b = await run(new CpuProviderOnGpu(new AllScaipCpu(model, s.numbers, s.charge, s.spin)), 10, settings, npt);
    const last = a.samples.length - 1;
    expect(a.samples[last].barostatAccepted).toBeGreaterThan(0); // the box did change
    expect(a.samples[last].barostatAccepted).toBe(b.samples[last].barostatAccepted);
    for (let i = 0; i < a.samples.length; i++) {
      const p = a.samples[i], q = b.samples[i];
      expect(Math.abs(p.volume - q.volume) / q.volume).toBeLessThan(1e-6);
      expect(relErr(p.positions, q.positions)).toBeLessThan(1e-5);
      expect(Math.abs(p.epot - q.epot)).toBeLessThan(1e-4 * Math.max(1, Math.abs(q.epot)));
    }
  });
});
