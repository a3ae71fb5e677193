import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellVolume } from '../../src/geometry/cell';
import { atomicMass } from '../../src/io/elements';
import { readStructure } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import { makeSystems } from '../../scripts/sampleSystems';

const DIR = join(__dirname, '..', '..', 'public', 'systems');
const load = (name: string) => readStructure(readFileSync(join(DIR, name), 'utf8'), name);

/** Distance between atoms i and j, minimum image for an orthorhombic periodic cell. */
function distance(s: Structure, i: number, j: number): number {
  let sum = 0;
  for (let d = 0; d < 3; d++) {
    let x = s.positions[3 * i + d] - s.positions[3 * j + d];
    if (s.cell && s.pbc[d]) {
      const L = s.cell[4 * d];
      x -= L * Math.round(x / L);
    }
    sum += x * x;
  }
  return Math.sqrt(sum);
}

/** Checks every water (O, H, H in file order) has SPC/Fw bonds and angle; returns the closest intermolecular contacts. */
function checkWaters(s: Structure): { oo: number; oh: number; hh: number } {
  const n = s.numbers.length;
  expect(n % 3).toBe(0);
  const closest = { oo: Infinity, oh: Infinity, hh: Infinity };
  for (let m = 0; m < n / 3; m++) {
    expect([s.numbers[3 * m], s.numbers[3 * m + 1], s.numbers[3 * m + 2]]).toEqual([8, 1, 1]);
    const r1 = distance(s, 3 * m, 3 * m + 1);
    const r2 = distance(s, 3 * m, 3 * m + 2);
    const r12 = distance(s, 3 * m + 1, 3 * m + 2);
    expect(r1).toBeCloseTo(1.012, 8);
    expect(r2).toBeCloseTo(1.012, 8);
    const angle = (Math.acos((r1 * r1 + r2 * r2 - r12 * r12) / (2 * r1 * r2)) * 180) / Math.PI;
    expect(angle).toBeCloseTo(113.24, 6);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.floor(i / 3) === Math.floor(j / 3)) continue;
      const d = distance(s, i, j);
      const key = s.numbers[i] === 8 && s.numbers[j] === 8 ? 'oo' : s.numbers[i] === 1 && s.numbers[j] === 1 ? 'hh' : 'oh';
      closest[key] = Math.min(closest[key], d);
    }
  }
  return closest;
}

describe('sample systems in public/systems', () => {
  it('are exactly what scripts/make-systems.ts writes', () => {
    for (const [name, text] of Object.entries(makeSystems())) {
      expect(readFileSync(join(DIR, name), 'utf8'), name).toBe(text);
    }
  });

  it('water.xyz is one SPC/Fw water', () => {
    const s = load('water.xyz');
    expect(s.cell).toBeNull();
    checkWaters(s);
  });

  it('water8.xyz is a hydrogen-bonded cube without close contacts', () => {
    const s = load('water8.xyz');
    expect(s.numbers.length).toBe(24);
    const c = checkWaters(s);
    expect(c.oo).toBeCloseTo(2.75, 10);
    expect(c.oh).toBeCloseTo(2.75 - 1.012, 8); // the hydrogen-bonded H···O distance
    expect(c.hh).toBeGreaterThan(1.9);
  });

  it('water64_box.xyz is 64 waters at 1.00 g/cm³ with no close contacts across the periodic boundary', () => {
    const s = load('water64_box.xyz');
    expect(s.numbers.length).toBe(192);
    expect(s.pbc).toEqual([true, true, true]);
    let mass = 0;
    for (const z of s.numbers) mass += atomicMass(z);
    const density = (mass * 1.6605390666) / cellVolume(s.cell!);
    expect(density).toBeCloseTo(1.0, 6);
    const c = checkWaters(s);
    expect(c.oo).toBeGreaterThan(2.6);
    expect(c.oh).toBeGreaterThan(1.65);
    expect(c.hh).toBeGreaterThan(1.6);
  });

  it('nacl_pair_box.xyz is a neutral Na/Cl pair 2.8 Å apart in a 24 Å box', () => {
    const s = load('nacl_pair_box.xyz');
    expect(Array.from(s.numbers)).toEqual([11, 17]);
    expect(distance(s, 0, 1)).toBeCloseTo(2.8, 10);
    expect(Array.from(s.cell!)).toEqual([24, 0, 0, 0, 24, 0, 0, 0, 24]);
    expect([s.charge, s.spin]).toEqual([0, 1]);
  });
});
