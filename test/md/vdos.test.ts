// VDOS from the velocity autocorrelation, checked on a system whose spectrum is known exactly: harmonic
// diatomics (C–H-like at 3000 cm⁻¹, C–O-like at 1100 cm⁻¹) integrated by the project's own NVE engine. The
// peaks must sit at ω = √(k/μ), and the area is the number of degrees of freedom.
import { describe, expect, it } from 'vitest';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import type { CpuForceProvider, ForceResult } from '../../src/md/forceProvider';
import { fft } from '../../src/md/fft';
import { AMU_A2_FS2_TO_EV } from '../../src/md/units';
import { C_CM_PER_FS, VdosError, vdosFromPositions, vdosFromVelocities, vdosPeaks, type Vdos } from '../../src/md/vdos';
import { DEFAULT_SETTINGS, type MdSystem } from '../../src/md/types';

/** Independent harmonic bonds i–j: E = ½k(r − r0)². */
class HarmonicBonds implements CpuForceProvider {
  readonly kind = 'cpu';
  readonly name = 'harmonic bonds';
  constructor(private bonds: { i: number; j: number; k: number; r0: number }[]) {}
  compute(x: Float64Array): ForceResult {
    const forces = new Float64Array(x.length);
    let energy = 0;
    for (const { i, j, k, r0 } of this.bonds) {
      const d = [0, 1, 2].map((c) => x[3 * j + c] - x[3 * i + c]);
      const r = Math.hypot(d[0], d[1], d[2]);
      energy += 0.5 * k * (r - r0) ** 2;
      for (let c = 0; c < 3; c++) {
        const f = (-k * (r - r0) * d[c]) / r; // on j
        forces[3 * j + c] += f;
        forces[3 * i + c] -= f;
      }
    }
    return { energy, forces, virial: null };
  }
}

/** Spring constant (eV/Å²) that gives the wavenumber ν̃ (cm⁻¹) for reduced mass μ (amu). */
function springFor(wavenumber: number, mu: number): number {
  const omega = 2 * Math.PI * C_CM_PER_FS * wavenumber; // rad/fs
  return omega * omega * mu * AMU_A2_FS2_TO_EV;
}

const CH = 3000, CO = 1100;
const masses = new Float64Array([12.011, 1.008, 12.011, 15.999]);
const bonds = [
  { i: 0, j: 1, k: springFor(CH, (12.011 * 1.008) / 13.019), r0: 1.09 },
  { i: 2, j: 3, k: springFor(CO, (12.011 * 15.999) / 28.01), r0: 1.13 },
];

function diatomics(): MdSystem {
  // stretched along x, y (off-axis so all three components carry the motion), plus a slow rotation of the C–O
  const positions = new Float64Array([0, 0, 0, 1.12, 0.03, 0.02, 5, 0, 0, 5, 1.19, 0.01]);
  const velocities = new Float64Array([0, 0.001, 0, 0, -0.004, 0.002, 0.0005, 0, 0, -0.0004, 0, 0.0003]);
  return { numbers: new Int32Array([6, 1, 6, 8]), masses, positions, velocities, cell: null, pbc: [false, false, false], molecules: new Int32Array([0, 0, 1, 1]) };
}

async function run(dt: number, steps: number, every: number) {
  const engine = new CpuMdEngine(diatomics(), new HarmonicBonds(bonds), { ...DEFAULT_SETTINGS, ensemble: 'nve', dt });
  const velocities: Float64Array[] = [], positions: Float64Array[] = [];
  await engine.run(steps, {
    sampleEvery: every,
    onSample: (s) => { velocities.push(Float64Array.from(s.velocities)); positions.push(Float64Array.from(s.positions)); },
  });
  return { velocities, positions };
}

function area(v: Vdos): number {
  let a = 0;
  for (let j = 1; j < v.wavenumber.length; j++) a += 0.5 * (v.intensity[j] + v.intensity[j - 1]) * (v.wavenumber[j] - v.wavenumber[j - 1]);
  return a;
}

function expectPeaks(v: Vdos) {
  const peaks = vdosPeaks(v, 500, 2).map((p) => p.wavenumber).sort((a, b) => a - b);
  expect(peaks).toHaveLength(2);
  expect(Math.abs(peaks[0] / CO - 1)).toBeLessThan(0.005);
  expect(Math.abs(peaks[1] / CH - 1)).toBeLessThan(0.005);
}

describe('VDOS', () => {
  it('FFT matches a direct DFT', () => {
    const n = 64;
    const re = Float64Array.from({ length: n }, (_, t) => Math.sin(0.3 * t) + 0.1 * t), im = new Float64Array(n);
    const x = Float64Array.from(re);
    fft(re, im);
    for (const k of [0, 1, 5, 31, 32, 63]) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) { sr += x[t] * Math.cos((2 * Math.PI * k * t) / n); si -= x[t] * Math.sin((2 * Math.PI * k * t) / n); }
      expect(Math.abs(re[k] - sr)).toBeLessThan(1e-10);
      expect(Math.abs(im[k] - si)).toBeLessThan(1e-10);
    }
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(RangeError);
  });

  it('harmonic diatomics from velocities: peaks at √(k/μ), area 3N, autocorrelation C(0) = Σ m v²', async () => {
    const { velocities } = await run(0.25, 4000, 1); // 1 ps
    const v = vdosFromVelocities(velocities, masses, 0.25);
    expectPeaks(v);
    expect(Math.abs(area(v) / 12 - 1)).toBeLessThan(0.01);
    let c0 = 0;
    for (const f of velocities) for (let i = 0; i < 4; i++) c0 += masses[i] * (f[3 * i] ** 2 + f[3 * i + 1] ** 2 + f[3 * i + 2] ** 2);
    expect(v.autocorrelation[0] / (c0 / velocities.length) - 1).toBeLessThan(1e-12);
    expect(v.wavenumber[v.wavenumber.length - 1]).toBeCloseTo(1 / (2 * C_CM_PER_FS * 0.25), 6);
  });

  it('harmonic diatomics from positions saved every 5 steps (the workbench trajectory): same peaks', async () => {
    const { positions } = await run(0.25, 4000, 5); // frames 1.25 fs apart
    const v = vdosFromPositions(positions, masses, 1.25);
    expectPeaks(v);
    expect(Math.abs(area(v) / 12 - 1)).toBeLessThan(1e-9);
  });

  it('refuses what it cannot transform, naming the problem', () => {
    const f = Array.from({ length: 16 }, () => new Float64Array(12).fill(0.01));
    expect(() => vdosFromVelocities(f, masses, 0)).toThrow(/positive number of fs/);
    expect(() => vdosFromVelocities(f.slice(0, 3), masses, 1)).toThrow(/at least 8/);
    expect(() => vdosFromVelocities([...f, new Float64Array(9)], masses, 1)).toThrow(/frames 16 has 9 numbers/);
    expect(() => vdosFromVelocities(f, new Float64Array([1, 1, 0, 1]), 1)).toThrow(/atom 2 has mass 0/);
    expect(() => vdosFromVelocities(f.map((x) => x.map(() => 0)), masses, 1)).toThrow(VdosError);
  });
});
