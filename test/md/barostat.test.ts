// Monte Carlo barostat: NPT density of the Lennard-Jones fluid against the published equation of state of
// Johnson, Zollweg & Gubbins, Mol. Phys. 78, 591 (1993) (test/md/jzg.ts). State point T* = 2.0, ρ* = 0.8
// (dense supercritical fluid); the pressure P*(0.8, 2.0) from the EOS is imposed and ⟨ρ*⟩ must come back
// within 2 %. Argon units; truncated (unshifted) potential at 3σ plus the analytic tail, so that the energies the
// barostat compares are those of the full LJ fluid the EOS describes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { ARGON } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { fccLattice, systemFromStructure } from '../../src/md/setup';
import { DEFAULT_SETTINGS } from '../../src/md/types';
import { EV_PER_A3_TO_BAR, KB } from '../../src/md/units';
import { jzgPressure } from './jzg';
import { argonLj, mdDevice, mean } from './helpers';

const T_STAR = 2.0, RHO_STAR = 0.8;

describe('Monte Carlo barostat (WebGPU)', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('reproduces the Johnson–Zollweg–Gubbins LJ density within 2 %', async () => {
    const pStar = jzgPressure(RHO_STAR, T_STAR); // 5.3117
    expect(pStar).toBeCloseTo(5.3117, 3);
    const temperature = (T_STAR * ARGON.epsilon) / KB;
    const pressure = ((pStar * ARGON.epsilon) / ARGON.sigma ** 3) * EV_PER_A3_TO_BAR; // bar
    // Start 5 % too dilute so the barostat has to find the density itself.
    const a = Math.cbrt(4 / (0.95 * RHO_STAR)) * ARGON.sigma;
    const sys = systemFromStructure(fccLattice(18, 4, a), { temperature, seed: 5 }); // 256 atoms
    const n = sys.numbers.length;
    const settings = {
      ...DEFAULT_SETTINGS, ensemble: 'npt' as const, dt: 10, temperature, pressure, friction: 0.01, barostatInterval: 5, seed: 3,
    };
    const e = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, argonLj(3 * ARGON.sigma, false, true)), settings);
    const rho: number[] = [];
    let last = { attempts: 0, accepted: 0 };
    await e.run(Number(process.env.NPT_STEPS ?? 5000), {
      sampleEvery: 10,
      onSample: (s) => { rho.push((n * ARGON.sigma ** 3) / s.volume); last = { attempts: s.barostatAttempts, accepted: s.barostatAccepted }; },
    });
    e.destroy();
    const r = mean(rho.slice(Math.floor(rho.length / 4)));
    console.info(`⟨ρ*⟩ = ${r.toFixed(4)} (JZG ${RHO_STAR}), acceptance ${(last.accepted / last.attempts).toFixed(2)}`);
    expect(Math.abs(r / RHO_STAR - 1)).toBeLessThan(0.02);
    expect(last.accepted / last.attempts).toBeGreaterThan(0.2);
    expect(last.accepted / last.attempts).toBeLessThan(0.8);
  });
});
