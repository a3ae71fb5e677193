// The AllScAIP CPU runtime as an MD force provider: the virial from its stress has the engine's sign convention
// (W = −∂E/∂ε), and velocity Verlet on the GPU driven by it through the host round trip conserves energy.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import type { Structure } from '../../src/io/structure';
import { AllScaipCpu } from '../../src/md/allscaipCpu';
import { CpuProviderOnGpu } from '../../src/md/forceProvider';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { systemFromStructure } from '../../src/md/setup';
import { DEFAULT_SETTINGS } from '../../src/md/types';
import { loadModelFromPath } from '../../src/model/loadNode';
import { mdDevice, variance } from './helpers';

function fixture(name: string): Structure {
  const c = JSON.parse(readFileSync(`test/fixtures/${name}/case.json`, 'utf8')).inputs;
  return {
    numbers: Int32Array.from(c.numbers), positions: Float64Array.from(c.positions.flat()),
    cell: c.cell ? Float64Array.from(c.cell.flat()) : null, pbc: c.pbc, charge: c.charge, spin: c.spin,
  };
}

describe('AllScAIP CPU provider', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('virial is minus the strain derivative of the model energy (periodic box)', async () => {
    const s = fixture('golden-case3');
    const p = new AllScaipCpu(await loadModelFromPath('test/fixtures/golden-case3'), s.numbers, s.charge, s.spin);
    const r = p.compute(s.positions, s.cell, s.pbc, true);
    expect(r.virial).not.toBeNull();
    const h = 1e-5;
    for (const [a, b] of [[0, 0], [1, 2]]) {
      const e = (eps: number) => {
        // Symmetric strain ε_ab = ε_ba = eps/2 (stress is symmetric).
        const strain = (v: Float64Array) => {
          const o = Float64Array.from(v);
          for (let i = 0; i < v.length / 3; i++) {
            o[3 * i + a] += (a === b ? eps : eps / 2) * v[3 * i + b];
            if (a !== b) o[3 * i + b] += (eps / 2) * v[3 * i + a];
          }
          return o;
        };
        return p.compute(strain(s.positions), strain(s.cell!), s.pbc, false).energy;
      };
      const dUde = (e(h) - e(-h)) / (2 * h);
      const w = 0.5 * (r.virial![3 * a + b] + r.virial![3 * b + a]);
      expect(w).toBeCloseTo(-dUde, 4);
    }
  });

  it('drives the WebGPU integrator through the host round trip and conserves energy', async () => {
    const s = fixture('molecule-released-flags'); // 6 H2O, random-weight model
    const model = await loadModelFromPath('test/fixtures/molecule-released-flags');
    const sys = systemFromStructure(s, { temperature: 300, seed: 3 });
    const e = await GpuMdEngine.create(gpu.device, sys, new CpuProviderOnGpu(new AllScaipCpu(model, s.numbers)),
      { ...DEFAULT_SETTINGS, dt: 0.25 });
    const etot: number[] = [], ekin: number[] = [];
    await e.run(40, { sampleEvery: 2, onSample: (q) => { etot.push(q.epot + q.ekin); ekin.push(q.ekin); } });
    e.destroy();
    expect(etot.length).toBe(20);
    expect(Math.sqrt(variance(etot))).toBeLessThan(0.05 * Math.sqrt(variance(ekin)));
  });
});
