// The shipped default model on WebGPU (float32) against the float64 CPU runtime on MD frames of the 64-water
// box, not only on the export-time fixtures: the float32 PyTorch MD path once passed the fixtures while its
// forces were 5e-3 eV/Å RMS off on MD frames (a self-loop rounding bug), and that showed up as NVE drift.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuModel } from '../../src/gpu/model';
import { atomicMass } from '../../src/io/elements';
import { readXyz } from '../../src/io/xyz';
import { AllScaipCpu } from '../../src/md/allscaipCpu';
import { loadModelFromPath } from '../../src/model/loadNode';
import { f32, randomArray, setupGpu, teardownGpu, type TestGpu } from './helpers';

let gpu: TestGpu | undefined;
beforeAll(async () => { gpu = await setupGpu(); });
afterAll(() => teardownGpu(gpu));

const ASE_FS = 0.09822694788464063; // 1 fs in ASE time units (Å·sqrt(amu/eV))
const KT_300K_EV = 8.617333262e-5 * 300;

function rms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

describe('shipped default model on WebGPU, MD frames of the water box', () => {
  it('float32 WebGPU forces match float64 CPU forces to ≤ 1e-4 eV/Å RMS', async () => {
    const index = JSON.parse(readFileSync('public/models/index.json', 'utf8')) as { default: string };
    const model = await loadModelFromPath(`public/models/${index.default}`);
    const s = readXyz(readFileSync('public/systems/water64_box.xyz', 'utf8'))[0];
    const n = s.numbers.length;
    const cpu = new AllScaipCpu(model, s.numbers, s.charge, s.spin);
    // frames: velocity Verlet on the float64 runtime, 1 fs steps from 300 K Maxwell–Boltzmann velocities
    const mass = Float64Array.from({ length: 3 * n }, (_, i) => atomicMass(s.numbers[Math.floor(i / 3)]));
    const u1 = randomArray(3 * n, 7, 0.5), u2 = randomArray(3 * n, 8, 0.5);
    const vel = Float64Array.from({ length: 3 * n }, (_, i) =>
      Math.sqrt(-2 * Math.log(0.5 + u1[i] + 1e-12)) * Math.cos(2 * Math.PI * (0.5 + u2[i])) * Math.sqrt(KT_300K_EV / mass[i]));
    const pos = Float64Array.from(s.positions);
    const dt = 1.0 * ASE_FS;
    let f = cpu.compute(pos, s.cell, s.pbc, false).forces;
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < 3 * n; i++) { vel[i] += 0.5 * dt * f[i] / mass[i]; pos[i] += dt * vel[i]; }
      f = cpu.compute(pos, s.cell, s.pbc, false).forces;
      for (let i = 0; i < 3 * n; i++) vel[i] += 0.5 * dt * f[i] / mass[i];
    }
    // the GPU sees float32 positions; give the float64 reference the same ones so only arithmetic differs
    const frame = { ...s, positions: f32(pos) };
    const want = cpu.compute(frame.positions, frame.cell, frame.pbc, false);
    const got = await new GpuModel(gpu!.rt, model).compute(frame);
    const err = rms(got.forces, want.forces);
    let maxErr = 0;
    for (let i = 0; i < 3 * n; i++) maxErr = Math.max(maxErr, Math.abs(got.forces[i] - want.forces[i]));
    console.log(`shipped model, water box after 3 MD steps: WebGPU f32 vs CPU f64 forces RMS ${err.toExponential(2)} eV/Å, max ${maxErr.toExponential(2)}; ` +
      `energy ${(got.energy - want.energy).toExponential(2)} eV`);
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(maxErr).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(got.energy - want.energy) / n).toBeLessThan(1e-5);
  }, 600_000);
});
