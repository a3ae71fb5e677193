// Lennard-Jones providers: float64 forces and virial against finite differences of the energy, the tail terms
// against their closed forms, and the WebGPU kernel against the float64 provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { BOX_FLOATS, boxData, CpuProviderOnGpu, OUTPUT_FLOATS } from '../../src/md/forceProvider';
import { toVec4 } from '../../src/md/gpuEngine';
import { ARGON, LennardJonesCpu, type LjParams } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { fccLattice } from '../../src/md/setup';
import { mdDevice } from './helpers';

/** Argon + krypton fcc crystal, jiggled, so mixed pairs and all force directions are exercised. */
function mixture() {
  const s = fccLattice(18, 3, 5.8);
  const n = s.numbers.length;
  for (let i = 0; i < n; i++) if (i % 3 === 0) s.numbers[i] = 36;
  for (let i = 0; i < 3 * n; i++) s.positions[i] += 0.25 * Math.sin(1.7 * i + 0.3);
  return s;
}
const params: LjParams = {
  species: { 18: ARGON, 36: { epsilon: 0.01423, sigma: 3.6 } }, cutoff: 8.0, shift: true, tailCorrection: false,
};

describe('Lennard-Jones (float64)', () => {
  const s = mixture();
  const lj = new LennardJonesCpu(s.numbers, params);
  const r = lj.compute(s.positions, s.cell, s.pbc, true);

  it('forces are minus the gradient of the energy', () => {
    const h = 1e-5;
    for (const k of [0, 4, 17, 100, 250]) {
      const p = Float64Array.from(s.positions);
      p[k] += h; const ep = lj.compute(p, s.cell, s.pbc, false).energy;
      p[k] -= 2 * h; const em = lj.compute(p, s.cell, s.pbc, false).energy;
      expect(r.forces[k]).toBeCloseTo(-(ep - em) / (2 * h), 7);
    }
  });

  it('virial is minus the strain derivative of the energy (periodic diagonal, cluster all components)', () => {
    const h = 1e-6;
    const cluster = { ...s, cell: null, pbc: [false, false, false] as [boolean, boolean, boolean] };
    const rc = lj.compute(cluster.positions, null, cluster.pbc, true);
    for (const [sys, res, pairs] of [[s, r, [[0, 0], [1, 1], [2, 2]]], [cluster, rc, [[0, 0], [0, 1], [1, 2], [2, 0]]]] as const) {
      for (const [a, b] of pairs) {
        const strained = (e: number) => {
          const p = Float64Array.from(sys.positions);
          for (let i = 0; i < p.length / 3; i++) p[3 * i + a] += e * p[3 * i + b];
          let c: Float64Array | null = null;
          if (sys.cell) { c = Float64Array.from(sys.cell); for (let v = 0; v < 3; v++) c[3 * v + a] += e * c[3 * v + b]; }
          return lj.compute(p, c, sys.pbc, false).energy;
        };
        const dUde = (strained(h) - strained(-h)) / (2 * h);
        expect(res.virial![3 * a + b]).toBeCloseTo(-dUde, 5);
        expect(res.virial![3 * a + b]).toBeCloseTo(res.virial![3 * b + a], 12);
      }
    }
  });

  it('tail corrections have the closed forms for one species', () => {
    const ar = fccLattice(18, 3, 5.8);
    const rc = 8.5, x = ARGON.sigma / rc, n = ar.numbers.length, V = 17.4 ** 3;
    const base = new LennardJonesCpu(ar.numbers, { species: { 18: ARGON }, cutoff: rc, shift: false, tailCorrection: false })
      .compute(ar.positions, ar.cell, ar.pbc, true);
    const tail = new LennardJonesCpu(ar.numbers, { species: { 18: ARGON }, cutoff: rc, shift: false, tailCorrection: true })
      .compute(ar.positions, ar.cell, ar.pbc, true);
    const eps = ARGON.epsilon, rho = n / V, sig3 = ARGON.sigma ** 3;
    // Allen & Tildesley eqs. 2.143 (energy) and 2.144 (pressure).
    const uTail = (8 / 3) * Math.PI * n * rho * eps * sig3 * (x ** 9 / 3 - x ** 3);
    const pTail = (16 / 3) * Math.PI * rho * rho * eps * sig3 * ((2 / 3) * x ** 9 - x ** 3);
    expect(tail.energy - base.energy).toBeCloseTo(uTail, 10);
    expect((tail.virial![0] + tail.virial![4] + tail.virial![8] - base.virial![0] - base.virial![4] - base.virial![8]) / (3 * V))
      .toBeCloseTo(pTail, 12);
  });

  it('rejects a cutoff longer than half the box and a tilted cell with clear messages', () => {
    const big = new LennardJonesCpu(s.numbers, { ...params, cutoff: 9 });
    expect(() => big.compute(s.positions, s.cell, s.pbc, false)).toThrow(/cutoff 9 Å exceeds half the box length, 8.700 Å/);
    const tilted = Float64Array.from(s.cell!); tilted[3] = 1;
    expect(() => lj.compute(s.positions, tilted, s.pbc, false)).toThrow(/orthorhombic/);
    expect(() => new LennardJonesCpu(s.numbers, { species: { 18: ARGON }, cutoff: 8, shift: true, tailCorrection: false }))
      .toThrow(/no ε, σ for element Z=36/);
  });
});

describe('Lennard-Jones (WebGPU) against float64', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  async function evaluate(provider: LennardJonesGpu | CpuProviderOnGpu, s: ReturnType<typeof mixture>) {
    const d = gpu.device, n = s.numbers.length;
    const st = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const positions = d.createBuffer({ size: 16 * n, usage: st }), forces = d.createBuffer({ size: 16 * n, usage: st });
    const box = d.createBuffer({ size: 4 * BOX_FLOATS, usage: st }), output = d.createBuffer({ size: 4 * OUTPUT_FLOATS, usage: st });
    d.queue.writeBuffer(positions, 0, toVec4(s.positions, null));
    d.queue.writeBuffer(forces, 0, new Float32Array(4 * n).fill(NaN));
    d.queue.writeBuffer(box, 0, boxData(s.cell, s.pbc));
    await provider.attach({ device: d, numAtoms: n, numbers: s.numbers, pbc: s.pbc, positions, forces, box, output });
    if (provider.resident) {
      const enc = d.createCommandEncoder(); provider.encode(enc); d.queue.submit([enc.finish()]);
    } else await provider.evaluate();
    const rb = d.createBuffer({ size: 16 * n + 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = d.createCommandEncoder();
    enc.copyBufferToBuffer(forces, 0, rb, 0, 16 * n); enc.copyBufferToBuffer(output, 0, rb, 16 * n, 64);
    d.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const raw = new Float32Array(rb.getMappedRange().slice(0));
    rb.unmap();
    for (const b of [positions, forces, box, output, rb]) b.destroy();
    provider.destroy();
    return { forces: raw.subarray(0, 4 * n), out: raw.subarray(4 * n) };
  }

  it('energy, forces and virial agree to f32 precision (mixture, tail on)', async () => {
    const s = mixture();
    const p = { ...params, tailCorrection: true };
    const want = new LennardJonesCpu(s.numbers, p).compute(s.positions, s.cell, s.pbc, true);
    for (const provider of [new LennardJonesGpu(s.numbers, p), new CpuProviderOnGpu(new LennardJonesCpu(s.numbers, p))]) {
      const got = await evaluate(provider, s);
      expect(got.out[0]).toBeCloseTo(want.energy, 4);
      let fmax = 0, err = 0;
      for (let i = 0; i < s.numbers.length; i++) for (let k = 0; k < 3; k++) {
        fmax = Math.max(fmax, Math.abs(want.forces[3 * i + k]));
        err = Math.max(err, Math.abs(got.forces[4 * i + k] - want.forces[3 * i + k]));
      }
      expect(err / fmax).toBeLessThan(2e-5);
      for (let k = 0; k < 9; k++) expect(got.out[1 + k]).toBeCloseTo(want.virial![k], 4);
      expect(got.out[10]).toBe(1);
    }
  });
});

describe('GPU engine refuses what the LJ kernel cannot do', () => {
  it('a tilted cell or a cutoff beyond half the box, before any step', async () => {
    const { GpuMdEngine } = await import('../../src/md/gpuEngine');
    const { systemFromStructure } = await import('../../src/md/setup');
    const { DEFAULT_SETTINGS } = await import('../../src/md/types');
    const gpu = await mdDevice();
    try {
      const s = fccLattice(18, 2, 5.8);
      const sys = systemFromStructure(s, { temperature: 50 });
      await expect(GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, { ...params, cutoff: 6 }), DEFAULT_SETTINGS))
        .rejects.toThrow(/cutoff 6 Å exceeds half the box length, 5.800 Å/);
      sys.cell![3] = 2;
      await expect(GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, { ...params, cutoff: 5 }), DEFAULT_SETTINGS))
        .rejects.toThrow(/orthorhombic/);
    } finally { gpu.destroy(); }
  });
});
