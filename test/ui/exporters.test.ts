import { expect, test } from 'vitest';
import { readStructures } from '../../src/io/read';
import { thermoCsv, trajectoryExtXyz } from '../../src/ui/exporters';
import { csvHeader } from '../../src/md/observables';
import { appendThermo, emptyThermo, type Frame } from '../../src/ui/store';

test('thermo CSV has the MD engine header and one parseable row per sample', () => {
  const t = emptyThermo();
  for (let i = 0; i < 3; i++) {
    appendThermo(t, {
      step: 10 * i, time_ps: 0.005 * i, epot_eV: -100 - i, ekin_eV: 1.5 + i, etot_eV: -98.5, conserved_eV: -98.5,
      temperature_K: 290 + i, pressure_bar: NaN, volume_A3: 1000, density_g_cm3: NaN, steps_per_s: 12.5, ns_per_day: 0.5, pull_work_eV: 0,
    });
  }
  expect(t.epot).toEqual([-100, -101, -102]);
  const lines = thermoCsv(t).trim().split('\n');
  expect(lines[0]).toBe(csvHeader());
  expect(lines).toHaveLength(4);
  const header = lines[0].split(',');
  const row = lines[2].split(',');
  expect(Number(row[header.indexOf('step')])).toBe(10);
  expect(Number(row[header.indexOf('epot_eV')])).toBe(-101);
  expect(row[header.indexOf('pressure_bar')]).toBe(''); // undefined for this system
});

test('trajectory extXYZ reads back frame by frame with cell, step and positions', () => {
  const cell = Float64Array.from([5, 0, 0, 0, 6, 0, 0, 0, 7]);
  const system = { numbers: Int32Array.from([8, 1, 1]), positions: new Float64Array(9), cell, pbc: [true, true, true] as [boolean, boolean, boolean], charge: 0, spin: 1 };
  const frames: Frame[] = [0, 1].map((k) => {
    const p = Float64Array.from([0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0].map((v) => v + 0.1 * k));
    return { step: 20 * k, time_fs: 10 * k, positions: p, unwrapped: p, cell };
  });
  const back = readStructures(trajectoryExtXyz(system, frames), 'traj.extxyz');
  expect(back).toHaveLength(2);
  expect(Array.from(back[1].numbers)).toEqual([8, 1, 1]);
  expect(back[1].positions[3]).toBeCloseTo(1.06, 6);
  expect(Array.from(back[1].cell!)).toEqual(Array.from(cell));
  expect(Number(back[1].info?.step)).toBe(20);
});

import { fitDrift } from '../../src/ui/plots/drift';
test('drift fit recovers a known slope in meV/atom/ps and ignores NaN rows', () => {
  const t = [0, 0.01, 0.02, 0.03, 0.04, 0.05];
  // 0.3 eV/ps on 100 atoms = 3 meV/atom/ps, plus zero-mean wiggle.
  const e = t.map((x, i) => -500 + 0.3 * x + (i % 2 ? 1e-4 : -1e-4));
  e.push(NaN); t.push(0.06);
  const f = fitDrift(t, e, 100)!;
  expect(f.meVPerAtomPs).toBeCloseTo(3, 1);
  expect(f.points).toBe(6);
  expect(fitDrift([0, 1], [0, 1], 10)).toBeNull();
});

import { supercell } from '../../src/ui/system/supercell';
test('supercell tiles atoms and scales the cell; refuses non-periodic directions', () => {
  const s = { numbers: Int32Array.from([11, 17]), positions: Float64Array.from([0, 0, 0, 1.4, 1.4, 1.4]), cell: Float64Array.from([2.8, 0, 0, 0, 2.8, 0, 0, 0, 2.8]), pbc: [true, true, true] as [boolean, boolean, boolean], charge: 0, spin: 1 };
  const big = supercell(s, 2, 1, 3);
  expect(big.numbers.length).toBe(12);
  expect(Array.from(big.cell!)).toEqual([5.6, 0, 0, 0, 2.8, 0, 0, 0, 8.4].map((v) => expect.closeTo(v, 12)));
  expect(big.positions[3 * 11 + 2]).toBeCloseTo(1.4 + 2 * 2.8, 12);
  expect(() => supercell({ ...s, pbc: [true, true, false] }, 1, 1, 2)).toThrow(/not periodic/);
});
