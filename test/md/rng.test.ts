import { describe, expect, it } from 'vitest';
import { gammaDeviate, gaussian4, philox4x32, seedKey, toUniform } from '../../src/md/rng';
import { maxwellBoltzmann } from '../../src/md/setup';
import { KB, kineticEnergy } from '../../src/md/units';
import { mean, variance } from './helpers';

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)))
      .toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)))
      .toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('gives uniforms in (0,1) and standard normals', () => {
    const key = seedKey(12345);
    const g: number[] = [];
    for (let i = 0; i < 20000; i++) g.push(...gaussian4(key, i, 3, 1));
    expect(Math.abs(mean(g))).toBeLessThan(0.01);
    expect(Math.abs(variance(g) - 1)).toBeLessThan(0.02);
    expect(toUniform(0)).toBeGreaterThan(0);
    expect(toUniform(0xffffffff)).toBeLessThan(1);
  });

  it('draws Gamma deviates with the right mean and variance', () => {
    const key = seedKey(9);
    for (const shape of [0.5, 3, 160]) {
      const x = Array.from({ length: 20000 }, (_, i) => gammaDeviate(shape, key, i, 2));
      expect(Math.abs(mean(x) / shape - 1)).toBeLessThan(0.03);
      expect(Math.abs(variance(x) / shape - 1)).toBeLessThan(0.06);
    }
  });
});

describe('Maxwell–Boltzmann velocities', () => {
  it('have zero momentum, the requested temperature on average, and are reproducible from the seed', () => {
    const n = 4000;
    const masses = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 1.008 : 39.948));
    const v = maxwellBoltzmann(masses, 300, 42);
    const p = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) p[k] += masses[i] * v[3 * i + k];
    for (const c of p) expect(Math.abs(c)).toBeLessThan(1e-12);
    const t = (2 * kineticEnergy(masses, v)) / ((3 * n - 3) * KB);
    expect(Math.abs(t / 300 - 1)).toBeLessThan(0.05);
    expect(maxwellBoltzmann(masses, 300, 42)).toEqual(v);
    const exact = maxwellBoltzmann(masses, 300, 42, true);
    expect((2 * kineticEnergy(masses, exact)) / ((3 * n - 3) * KB)).toBeCloseTo(300, 8);
  });
});

describe('system set-up', () => {
  it('default time step by element, molecules from bonds, velocities read from ASE units', async () => {
    const { defaultTimeStep, systemFromStructure, ASE_TIME_FS } = await import('../../src/md/setup');
    expect(defaultTimeStep(Int32Array.of(8, 1, 1))).toBe(0.5);
    expect(defaultTimeStep(Int32Array.of(6, 8))).toBe(1);
    expect(defaultTimeStep(Int32Array.of(18, 18))).toBe(2);
    // Water split across the periodic boundary: one molecule, made whole.
    const s = {
      numbers: Int32Array.of(8, 1, 1, 18), positions: Float64Array.of(0.1, 5, 5, 9.4, 5, 5, 0.4, 5.9, 5, 5, 1, 1),
      cell: Float64Array.of(10, 0, 0, 0, 10, 0, 0, 0, 10), pbc: [true, true, true] as [boolean, boolean, boolean], charge: 0, spin: 1,
      arrays: { velocities: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0) },
    };
    const sys = systemFromStructure(s);
    expect(Array.from(sys.molecules)).toEqual([0, 0, 0, 1]);
    expect(sys.positions[3]).toBeCloseTo(-0.6, 12);
    expect(sys.velocities[0]).toBeCloseTo(1 / ASE_TIME_FS, 15);
    expect(ASE_TIME_FS).toBeCloseTo(10.1805, 4);
  });
});
