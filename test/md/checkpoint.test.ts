// Checkpoint → resume continues bit for bit: the raw engine state after 2×150 steps with a checkpoint (serialised
// to text and parsed back) in between equals that of an uninterrupted 300-step run. NPT exercises Langevin noise,
// the barostat's random moves and adaptive step; NHC exercises the chain state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { parseCheckpoint, serializeCheckpoint } from '../../src/md/checkpointIo';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { controlView, GpuMdEngine, nextBatchSteps } from '../../src/md/gpuEngine';
import { LennardJonesCpu } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { DEFAULT_SETTINGS, type EngineCheckpoint, type Ensemble, type MdEngine } from '../../src/md/types';
import { argon, argonLj, mdDevice } from './helpers';

const sys = argon(2, 5.9, 150, 4); // 32 atoms
const lj = argonLj(5.5, false, true);
const noop = { sampleEvery: 50, onSample: () => {} };

function expectSameState(a: EngineCheckpoint, b: EngineCheckpoint) {
  expect(b.step).toBe(a.step);
  expect(Object.keys(b.blobs).sort()).toEqual(Object.keys(a.blobs).sort());
  for (const k of Object.keys(a.blobs)) expect(Buffer.from(b.blobs[k]).equals(Buffer.from(a.blobs[k])), k).toBe(true);
}

describe('checkpoint → resume is bit for bit', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  for (const ensemble of ['npt', 'nvt-nhc'] as Ensemble[]) {
    const settings = { ...DEFAULT_SETTINGS, ensemble, dt: 10, temperature: 150, pressure: 500, barostatInterval: 5, seed: 99, tauT: 200 };

    it(`WebGPU, ${ensemble}`, async () => {
      const make = () => GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
      const straight = await make();
      await straight.run(300, noop);
      const want = await straight.checkpoint();
      straight.destroy();

      const first = await make();
      await first.run(150, noop);
      const text = serializeCheckpoint(await first.checkpoint());
      first.destroy();
      const resumed: MdEngine = await GpuMdEngine.fromCheckpoint(gpu.device, parseCheckpoint(text), new LennardJonesGpu(sys.numbers, lj));
      expect(resumed.step).toBe(150);
      await resumed.run(150, noop);
      const got = await resumed.checkpoint();
      resumed.destroy();
      expectSameState(want, got);
      if (ensemble === 'npt') {
        const box = new Float32Array(got.blobs.box.slice().buffer);
        expect(box[9]).not.toBeCloseTo((2 * 5.9) ** 3, 0); // the barostat moved the volume
        const ctl = controlView(got.blobs.control.slice().buffer).views;
        expect(ctl.mc_attempts[0]).toBe(60); // 300 steps / 5 = 60 barostat attempts
      }
    });

    it(`float64 CPU, ${ensemble}`, async () => {
      const make = () => new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), settings);
      const straight = make();
      await straight.run(300, noop);
      const want = await straight.checkpoint();
      const first = make();
      await first.run(150, noop);
      const resumed = CpuMdEngine.fromCheckpoint(parseCheckpoint(serializeCheckpoint(await first.checkpoint())),
        new LennardJonesCpu(sys.numbers, lj));
      await resumed.run(150, noop);
      expectSameState(want, await resumed.checkpoint());
    });
  }

  it('refuses a checkpoint of the other backend and a file that is not a checkpoint', async () => {
    const c = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt: 10 });
    const ck = await c.checkpoint();
    await expect(GpuMdEngine.fromCheckpoint(gpu.device, ck, new LennardJonesGpu(sys.numbers, lj))).rejects.toThrow(/--backend cpu/);
    expect(() => parseCheckpoint('{"format":"x"}', 'thermo.csv')).toThrow(/thermo.csv: not an MD checkpoint/);
    expect(() => parseCheckpoint('step,time', 'thermo.csv')).toThrow(/thermo.csv: not a checkpoint \(invalid JSON/);
  });
});

describe('step batching (steps per submission, adapted to the GPU time of a submission)', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('aims at the time budget, at least one step and at most the batch cap', () => {
    expect(nextBatchSteps(2, 100)).toBe(50);
    expect(nextBatchSteps(10, 100)).toBe(10);
    expect(nextBatchSteps(30, 100)).toBe(3);
    expect(nextBatchSteps(5000, 100)).toBe(1);
    expect(nextBatchSteps(0, 100)).toBe(50);
    expect(nextBatchSteps(1, 0)).toBe(1);
  });

  it('one step per submission gives the same state, bit for bit, as the adaptive batches', async () => {
    const settings = { ...DEFAULT_SETTINGS, ensemble: 'npt' as Ensemble, dt: 10, temperature: 150, pressure: 500, barostatInterval: 5, seed: 7 };
    const make = () => GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
    const adaptive = await make();
    await adaptive.run(120, noop);
    expect(adaptive.stepsPerSubmission).toBeGreaterThan(1); // 32 LJ atoms: far below the budget per step
    const want = await adaptive.checkpoint();
    adaptive.destroy();
    const single = await make();
    single.submissionBudgetMs = 0;
    await single.run(120, noop);
    expect(single.stepsPerSubmission).toBe(1);
    expectSameState(want, await single.checkpoint());
    single.destroy();
  });
});
