// Every WGSL integrator against its float64 reference, step for step: same algorithm and the same Philox
// counters, so after 20 steps only f32 rounding separates them (thermostat noise, Bussi's gamma deviates,
// the Nosé–Hoover chain and the barostat's accept/reject decisions included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { LennardJonesCpu } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { DEFAULT_SETTINGS, type Ensemble } from '../../src/md/types';
import { argon, argonLj, mdDevice } from './helpers';

const sys = argon(2, 5.8, 150, 21); // 32 atoms
const lj = argonLj(5.7, false, true);

describe('WebGPU integrators follow the float64 engine', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  for (const ensemble of ['nve', 'nvt-langevin', 'nvt-bussi', 'nvt-nhc', 'npt'] as Ensemble[]) {
    it(ensemble, async () => {
      const settings = { ...DEFAULT_SETTINGS, ensemble, dt: 10, temperature: 120, pressure: 300, friction: 0.02, tauT: 50,
        barostatInterval: 2, seed: 17 };
      const g = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
      const c = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), settings);
      const noop = { sampleEvery: 100, onSample: () => {} };
      await g.run(20, noop); await c.run(20, noop);
      const a = await g.sample(), b = await c.sample();
      g.destroy();
      let dx = 0;
      for (let i = 0; i < a.positions.length; i++) dx = Math.max(dx, Math.abs(a.positions[i] - b.positions[i]));
      expect(dx).toBeLessThan(2e-4);
      expect(Math.abs(a.ekin - b.ekin) / b.ekin).toBeLessThan(1e-3);
      expect(a.epot).toBeCloseTo(b.epot, 3);
      expect(a.thermostatEnergy).toBeCloseTo(b.thermostatEnergy, 3);
      if (ensemble === 'npt') {
        expect(a.barostatAttempts).toBe(10);
        expect(b.barostatAccepted).toBeGreaterThan(0);
        expect(b.barostatAccepted).toBeLessThan(10);
        expect(a.barostatAccepted).toBe(b.barostatAccepted);
        expect(a.volume / b.volume).toBeCloseTo(1, 5);
      }
    });
  }
});
