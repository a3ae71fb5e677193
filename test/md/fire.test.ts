// FIRE minimisation: a jiggled argon crystal relaxes to the fcc minimum (largest force below 1e-3 eV/Å, energy
// below the starting energy and equal between the GPU and the float64 engine).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { LennardJonesCpu } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { DEFAULT_SETTINGS, type MdEngine, type Sample } from '../../src/md/types';
import { argon, argonLj, mdDevice } from './helpers';

const sys = argon(2, 5.26, 0, 1); // 32 atoms near the LJ fcc lattice constant
for (let i = 0; i < sys.positions.length; i++) sys.positions[i] += 0.15 * Math.sin(2.3 * i + 1);
sys.velocities.fill(0);
const lj = argonLj(5.2);
const settings = { ...DEFAULT_SETTINGS, ensemble: 'minimize' as const, dt: 5, fireDtMax: 20, fireMaxStep: 0.1 };

function fmax(s: Sample): number {
  let m = 0;
  for (let i = 0; i < s.forces.length; i += 3) m = Math.max(m, Math.hypot(s.forces[i], s.forces[i + 1], s.forces[i + 2]));
  return m;
}

async function relax(e: MdEngine): Promise<{ first: Sample; last: Sample }> {
  const first = await e.sample();
  await e.run(1500, { sampleEvery: 500, onSample: () => {} });
  return { first, last: await e.sample() };
}

describe('FIRE', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('relaxes to the crystal minimum on the GPU and in float64', async () => {
    const c = await relax(new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), settings));
    const g = await relax(await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings));
    expect(fmax(c.first)).toBeGreaterThan(0.05);
    expect(fmax(c.last)).toBeLessThan(1e-3);
    expect(fmax(g.last)).toBeLessThan(2e-3);
    expect(c.last.epot).toBeLessThan(c.first.epot);
    expect(g.last.epot).toBeCloseTo(c.last.epot, 3);
  });
});
