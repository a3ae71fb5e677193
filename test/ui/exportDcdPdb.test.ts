// The workbench's DCD and PDB exports (the "trajectory DCD" and "frame PDB" buttons) read back by MDAnalysis and
// mdtraj, with the exported PDB as the topology, as a user would load them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cellFromParameters, cellParameters } from '../../src/geometry/cell';
import { readDcdHeader } from '../../src/io/dcd';
import type { Structure } from '../../src/io/structure';
import { framePdb, portableFileStem, trajectoryDcd } from '../../src/ui/exporters';
import type { Frame } from '../../src/ui/store';
import { readBack } from '../helpers/readBack';

const dir = mkdtempSync(join(tmpdir(), 'ui-export-'));

function frames(system: Structure, steps: number[], dt_fs: number): Frame[] {
  return steps.map((step, k) => {
    const cell = system.cell ? Float64Array.from(system.cell, (x) => x * (1 + 0.002 * k)) : null;
    const p = Float64Array.from(system.positions, (x, i) => x + 0.03 * k * Math.cos(i + k));
    return { step, time_fs: step * dt_fs, positions: p, unwrapped: p, cell };
  });
}

test('trajectory DCD and frame PDB from the workbench read back in MDAnalysis and mdtraj', () => {
  const cell = cellFromParameters(8.5, 9.25, 10, 85, 92, 110);
  const system: Structure = {
    numbers: Int32Array.from([8, 1, 1, 8, 1, 1]), cell, pbc: [true, true, true], charge: 0, spin: 1,
    positions: Float64Array.from([1, 1, 1, 1.96, 1, 1, 0.76, 1.93, 1, 5, 5, 5, 5.96, 5, 5, 4.76, 5.93, 5]),
  };
  const traj = frames(system, [0, 25, 50, 75], 0.5);
  const dcd = trajectoryDcd(system, traj, 0.5);
  expect(dcd.evenlySpaced).toBe(true);
  const pdbText = framePdb(system, traj[3], 'water pair step 75');
  expect(pdbText).toMatch(/^TITLE {5}water pair step 75\nCRYST1/);
  const pdb = join(dir, 'frame.pdb'), dcdPath = join(dir, 'traj.dcd');
  writeFileSync(pdb, pdbText);
  writeFileSync(dcdPath, dcd.bytes);
  const r = readBack(pdb, dcdPath);
  for (const tool of [r.mdanalysis, r.mdtraj]) {
    expect(tool.frames).toBe(4);
    traj.forEach((f, k) => {
      expect(Math.max(...tool.positions[k].map((x, i) => Math.abs(x - f.positions[i])))).toBeLessThan(1e-3);
      const want = cellParameters(f.cell!);
      tool.cells[k]!.forEach((x, j) => expect(Math.abs(x - want[j])).toBeLessThan(1e-4));
    });
  }
  r.mdanalysis.times_ps!.forEach((t, k) => expect(t).toBeCloseTo(0.0125 * k, 6));
});

test('uneven frame spacing is reported; a cell without periodic directions is left out of DCD and PDB', () => {
  const molecule: Structure = {
    numbers: Int32Array.from([6, 8]), positions: Float64Array.from([0, 0, 0, 1.13, 0, 0]),
    cell: Float64Array.from([20, 0, 0, 0, 20, 0, 0, 0, 20]), pbc: [false, false, false], charge: 0, spin: 1,
  };
  // Thinned as the stored trajectory grows: 0, 10, 20, then every 40 steps.
  const traj = frames(molecule, [0, 10, 20, 60, 100], 1);
  const dcd = trajectoryDcd(molecule, traj, 1);
  expect(dcd.evenlySpaced).toBe(false);
  const info = readDcdHeader(dcd.bytes, dcd.bytes.length, 'm.dcd');
  expect(info).toMatchObject({ numAtoms: 2, hasCell: false, frameCount: 5, firstStep: 0, stepInterval: 10 });
  expect(framePdb(molecule, traj[0], 'CO')).not.toMatch(/CRYST1/);
  expect(trajectoryDcd(molecule, traj.slice(0, 3), 1).evenlySpaced).toBe(true);
});

test('download names are portable ASCII, since mdtraj cannot open a DCD whose path has other characters', () => {
  expect(portableFileStem('water box, 64 H₂O (192 atoms)')).toBe('water_box_64_H2O_192_atoms');
  expect(portableFileStem('NaCl–gas.v2')).toBe('NaCl_gas.v2');
  expect(portableFileStem('')).toBe('run');
  expect(portableFileStem('水')).toBe('run');
});
