// Canonical sampling of each thermostat on the GPU: ⟨T⟩ within 2 % of the target and Var(E_kin) within 10 % of
// the canonical (N_f/2)(k_B T)², on a cheap system (32 argon atoms) over 6 000 steps (10 fs) batched into few
// submissions, with a fixed seed. Also the conserved quantity (E + thermostat energy) stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { DEFAULT_SETTINGS, degreesOfFreedom, type Ensemble } from '../../src/md/types';
import { KB } from '../../src/md/units';
import { argon, argonLj, mdDevice, mean, variance } from './helpers';

const T = 120;
const sys = argon(2, 5.8, T, 11); // 32 atoms, L = 11.6 Å
const lj = argonLj(5.7);

describe('thermostats sample the canonical ensemble (WebGPU)', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  for (const ensemble of ['nvt-langevin', 'nvt-bussi', 'nvt-nhc'] as Ensemble[]) {
    it(ensemble, async () => {
      // Tight coupling decorrelates E_kin within a few steps, so 5 400 samples give Var(E_kin) to ~3 %.
      const settings = {
        ...DEFAULT_SETTINGS, ensemble, dt: 10, temperature: T, friction: 0.1, tauT: ensemble === 'nvt-nhc' ? 50 : 20, seed: 2024,
      };
      const e = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
      const ekin: number[] = [], conserved: number[] = [];
      await e.run(6000, {
        sampleEvery: 1,
        onSample: (s) => { ekin.push(s.ekin); conserved.push(s.epot + s.ekin + s.thermostatEnergy); },
      });
      e.destroy();
      const k = ekin.slice(600);
      const nf = degreesOfFreedom(ensemble, sys.numbers.length);
      const tMean = (2 * mean(k)) / (nf * KB);
      const varRatio = variance(k) / ((nf / 2) * (KB * T) ** 2);
      console.info(`${ensemble}: ⟨T⟩/T − 1 = ${(tMean / T - 1).toFixed(4)}, Var(E_kin)/canonical − 1 = ${(varRatio - 1).toFixed(4)}`);
      expect(Math.abs(tMean / T - 1)).toBeLessThan(0.02);
      expect(Math.abs(varRatio - 1)).toBeLessThan(0.1);
      // The thermostat's bookkeeping: E + heat (or chain energy) wanders far less than E_kin fluctuates.
      expect(Math.sqrt(variance(conserved))).toBeLessThan(0.5 * Math.sqrt(variance(k)));
    });
  }
});
