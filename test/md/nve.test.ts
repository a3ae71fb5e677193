// Velocity Verlet: energy fluctuation ∝ dt² on the GPU and in float64, and the GPU engine follows the float64
// engine step for step (same algorithm, f32 vs f64 arithmetic).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { LennardJonesCpu } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { DriftTracker } from '../../src/md/observables';
import { DEFAULT_SETTINGS, type MdEngine } from '../../src/md/types';
import { argon, argonLj, mdDevice, variance } from './helpers';

// 108 argon atoms at ρ* ≈ 0.85 (fcc, a = 5.8 Å) starting at 120 K: the crystal settles near 60 K.
const sys = argon(3, 5.8, 120, 3);
const lj = argonLj(8.5);

async function etotStd(engine: MdEngine, duration: number): Promise<number> {
  const e: number[] = [];
  const drift = new DriftTracker(engine.numAtoms);
  await engine.run(Math.round(duration / engine.settings.dt), {
    sampleEvery: Math.max(1, Math.round(20 / engine.settings.dt)),
    onSample: (s) => { e.push(s.epot + s.ekin); drift.add(s); },
  });
  // No systematic drift beyond the fluctuation: over the run it stays far below σ(E_kin).
  expect(drift.report()!.drift_over_sigma_ekin).toBeLessThan(0.05);
  return Math.sqrt(variance(e));
}

/** σ(E_tot) at dt = 20, 10, 5 fs must fall by ≈4 per halving (second-order integrator). */
function expectSecondOrder(sd: number[]) {
  for (let i = 0; i + 1 < sd.length; i++) {
    const ratio = sd[i] / sd[i + 1];
    expect(ratio).toBeGreaterThan(3.2);
    expect(ratio).toBeLessThan(5);
  }
}

describe('NVE (velocity Verlet)', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('float64: energy fluctuation scales as dt²', async () => {
    const sd: number[] = [];
    for (const dt of [20, 10, 5]) {
      sd.push(await etotStd(new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt }), 4000));
    }
    expectSecondOrder(sd);
  });

  it('WebGPU: energy fluctuation scales as dt²', async () => {
    const sd: number[] = [];
    for (const dt of [20, 10, 5]) {
      const e = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt });
      sd.push(await etotStd(e, 4000));
      e.destroy();
    }
    expectSecondOrder(sd);
  });

  it('WebGPU follows the float64 engine step for step', async () => {
    const settings = { ...DEFAULT_SETTINGS, dt: 10 };
    const g = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
    const c = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), settings);
    const a0 = await g.sample(), b0 = await c.sample();
    expect(a0.epot).toBeCloseTo(b0.epot, 4);
    const noop = { sampleEvery: 1000, onSample: () => {} };
    await g.run(20, noop); await c.run(20, noop);
    const a = await g.sample(), b = await c.sample();
    expect(a.step).toBe(20);
    let dx = 0;
    for (let i = 0; i < a.positions.length; i++) dx = Math.max(dx, Math.abs(a.positions[i] - b.positions[i]));
    expect(dx).toBeLessThan(1e-4);
    expect(Math.abs(a.ekin - b.ekin) / b.ekin).toBeLessThan(1e-4);
    expect(a.epot).toBeCloseTo(b.epot, 3);
    g.destroy();
  });
});
