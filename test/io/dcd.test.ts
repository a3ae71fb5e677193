// DCD export read back by MDAnalysis and mdtraj (the PDB writer provides the topology both need):
// same frame count, positions within 1e-3 Å, same cells; plus the header reader used to append.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellFromParameters, cellParameters } from '../../src/geometry/cell';
import { AKMA_TIME_FS, dcdCounts, dcdFrame, DCD_COUNTS_OFFSET, dcdHeader, readDcdHeader, writeDcd, type DcdFrame } from '../../src/io/dcd';
import { StructureParseError } from '../../src/io/errors';
import { writePdb } from '../../src/io/pdbWrite';
import type { Structure } from '../../src/io/structure';
import { StructureWriteError } from '../../src/io/writeErrors';
import { readBack, type ToolReading } from '../helpers/readBack';

const dir = mkdtempSync(join(tmpdir(), 'dcd-'));

/** Deterministic wobble so every frame differs. */
function jiggle(base: number[], k: number): Float64Array {
  return Float64Array.from(base, (x, i) => x + 0.05 * k * Math.sin(1.7 * i + k));
}

function expectFrames(r: ToolReading, frames: DcdFrame[], positions: (k: number) => Float64Array, tol = 1e-3) {
  expect(r.frames).toBe(frames.length);
  frames.forEach((_f, k) => {
    const want = positions(k);
    expect(r.positions[k].length).toBe(want.length);
    const worst = Math.max(...r.positions[k].map((x, i) => Math.abs(x - want[i])));
    expect(worst).toBeLessThan(tol);
  });
}

function expectCells(r: ToolReading, frames: DcdFrame[]) {
  frames.forEach((f, k) => {
    if (!f.cell) { expect(r.cells[k]).toBeNull(); return; }
    const want = cellParameters(f.cell);
    const got = r.cells[k]!;
    for (let j = 0; j < 3; j++) expect(Math.abs(got[j] - want[j])).toBeLessThan(1e-4);
    for (let j = 3; j < 6; j++) expect(Math.abs(got[j] - want[j])).toBeLessThan(1e-4);
  });
}

function save(name: string, topology: Structure, frames: DcdFrame[], firstStep = 0, stepInterval = 10, timeStep_fs = 0.5) {
  const pdb = join(dir, `${name}.pdb`), dcd = join(dir, `${name}.dcd`);
  writeFileSync(pdb, writePdb(topology));
  writeFileSync(dcd, writeDcd(frames, { firstStep, stepInterval, timeStep_fs }));
  return { pdb, dcd };
}

// Water and methane, in vacuum.
const moleculeBase = [0, 0, 0, 0.9572, 0, 0, -0.24, 0.927, 0, 4, 4, 4, 5.09, 4, 4, 3.64, 5.03, 4, 3.64, 3.49, 4.89, 3.64, 3.49, 3.11];
const molecule: Structure = {
  numbers: Int32Array.from([8, 1, 1, 6, 1, 1, 1, 1]), positions: Float64Array.from(moleculeBase), cell: null,
  pbc: [false, false, false], charge: 0, spin: 1,
};

describe('DCD writer', () => {
  it('writes a molecule trajectory that MDAnalysis and mdtraj read back frame for frame, with times', () => {
    const frames = [0, 1, 2, 3].map((k) => ({ positions: jiggle(moleculeBase, k), cell: null }));
    const { pdb, dcd } = save('molecule', molecule, frames, 100, 20, 0.5);
    const r = readBack(pdb, dcd);
    for (const tool of [r.mdanalysis, r.mdtraj]) {
      expect(tool.atoms).toBe(8);
      expectFrames(tool, frames, (k) => frames[k].positions);
      expectCells(tool, frames);
    }
    // Frame k is MD step 100 + 20k of 0.5 fs: 0.05 ps + 0.01 ps·k.
    r.mdanalysis.times_ps!.forEach((t, k) => expect(t).toBeCloseTo(0.05 + 0.01 * k, 6));
  });

  it('writes a triclinic periodic trajectory with a changing cell (as NPT makes) that both tools read back', () => {
    const frames: DcdFrame[] = [0, 1, 2, 3, 4].map((k) => {
      const s = 1 + 0.01 * k;
      const cell = cellFromParameters(9.1 * s, 10.3 * s, 11.7 * s, 78 + k, 95.5, 104.25 - k);
      // Fractional positions spread through the cell, some outside it (unwrapped atoms stay as they are).
      const frac = [0.1, 0.2, 0.3, 0.8, 0.15, 0.6, 0.45, 0.9, 0.05, 1.1, -0.2, 0.5, 0.33, 0.66, 0.99, 0.7, 0.4, 0.2];
      const pos = new Float64Array(frac.length);
      for (let i = 0; i < frac.length; i += 3) {
        for (let d = 0; d < 3; d++) pos[i + d] = frac[i] * cell[d] + frac[i + 1] * cell[3 + d] + frac[i + 2] * cell[6 + d] + 0.01 * k;
      }
      return { positions: pos, cell };
    });
    const top: Structure = { numbers: Int32Array.from([14, 8, 8, 11, 17, 1]), positions: frames[0].positions, cell: frames[0].cell,
      pbc: [true, true, true], charge: 0, spin: 1 };
    const { pdb, dcd } = save('triclinic', top, frames);
    const r = readBack(pdb, dcd);
    for (const tool of [r.mdanalysis, r.mdtraj]) {
      expectFrames(tool, frames, (k) => frames[k].positions);
      expectCells(tool, frames);
    }
  });

  it('turns a rotated cell into the standard orientation the readers rebuild, keeping fractional coordinates', () => {
    // An orthorhombic-looking box turned about z by 30° and a general triclinic cell turned about an oblique axis.
    const c30 = Math.cos(Math.PI / 6), s30 = Math.sin(Math.PI / 6);
    const cell = Float64Array.from([8 * c30, 8 * s30, 0, -9 * s30, 9 * c30, 0, 1.5, 0.5, 10]);
    const frac = [0.1, 0.2, 0.3, 0.7, 0.6, 0.5, 0.95, 0.05, 0.5];
    const cart = (m: Float64Array) => {
      const p = new Float64Array(frac.length);
      for (let i = 0; i < frac.length; i += 3) for (let d = 0; d < 3; d++) p[i + d] = frac[i] * m[d] + frac[i + 1] * m[3 + d] + frac[i + 2] * m[6 + d];
      return p;
    };
    const frames = [{ positions: cart(cell), cell }];
    const top: Structure = { numbers: Int32Array.from([26, 26, 8]), positions: frames[0].positions, cell, pbc: [true, true, true], charge: 0, spin: 1 };
    const { pdb, dcd } = save('rotated', top, frames);
    const r = readBack(pdb, dcd);
    const standard = cellFromParameters(...cellParameters(cell));
    for (const tool of [r.mdanalysis, r.mdtraj]) {
      expectCells(tool, frames);
      expectFrames(tool, frames, () => cart(standard));
    }
  });

  it('reads its own header back for appending, and counts frames from the file size', () => {
    const frames = [0, 1, 2].map((k) => ({ positions: jiggle(moleculeBase, k), cell: null }));
    const bytes = writeDcd(frames, { firstStep: 40, stepInterval: 5, timeStep_fs: 2 });
    const info = readDcdHeader(bytes, bytes.length, 'x.dcd');
    expect(info).toMatchObject({ numAtoms: 8, hasCell: false, frameCount: 3, firstStep: 40, stepInterval: 5 });
    expect(info.timeStep_fs).toBeCloseTo(2, 5);
    expect(info.headerBytes + 3 * info.frameBytes).toBe(bytes.length);
    // A file whose header still says 0 frames (written before any frame) but holds one frame reads as 1 frame.
    const header = dcdHeader({ numAtoms: 8, hasCell: false, firstStep: 0, stepInterval: 1, timeStep_fs: 1, frameCount: 0 });
    const frame = dcdFrame({ numAtoms: 8, hasCell: false }, frames[0]);
    expect(readDcdHeader(header, header.length + frame.length, 'y.dcd').frameCount).toBe(1);
    expect(() => readDcdHeader(bytes, bytes.length - 4, 'cut.dcd')).toThrow(StructureParseError);
    expect(() => readDcdHeader(bytes, bytes.length - 4, 'cut.dcd')).toThrow(/cut\.dcd: .*not its header plus whole frames/);
    expect(() => readDcdHeader(new TextEncoder().encode('3\n\nO 0 0 0\n'), 12, 'w.xyz')).toThrow(/not a DCD file/);
    // Counts patch: NSET, ISTART, NSAVC and the last step.
    const counts = new DataView(dcdCounts(7, { firstStep: 40, stepInterval: 5, timeStep_fs: 2 }).buffer);
    expect([0, 1, 2, 3].map((k) => counts.getInt32(4 * k, true))).toEqual([7, 40, 5, 70]);
    expect(new DataView(bytes.buffer).getInt32(DCD_COUNTS_OFFSET, true)).toBe(3);
    expect(new DataView(bytes.buffer).getFloat32(44, true) * AKMA_TIME_FS).toBeCloseTo(2, 5);
  });

  it('refuses frames it cannot represent with a StructureWriteError naming the problem', () => {
    const ok = { positions: Float64Array.from(moleculeBase), cell: null };
    const bad = Float64Array.from(moleculeBase);
    bad[7] = NaN;
    const timing = { firstStep: 0, stepInterval: 1, timeStep_fs: 1 };
    expect(() => writeDcd([ok, { positions: bad, cell: null }], timing)).toThrow(StructureWriteError);
    expect(() => writeDcd([ok, { positions: bad, cell: null }], timing)).toThrow(/frame 2: atom 3 has y = NaN/);
    expect(() => writeDcd([ok, { positions: new Float64Array(9), cell: null }], timing)).toThrow(/frame 2 has 3 atoms, the trajectory 8/);
    expect(() => writeDcd([ok, { positions: ok.positions, cell: cellFromParameters(10, 10, 10, 90, 90, 90) }], timing))
      .toThrow(/frame 2 has a cell but the trajectory was started without one/);
    const leftHanded = Float64Array.from([10, 0, 0, 0, 10, 0, 0, 0, -10]);
    expect(() => writeDcd([{ positions: ok.positions, cell: leftHanded }], timing)).toThrow(/left-handed/);
    const flat = Float64Array.from([10, 0, 0, 0, 10, 0, 0, 0, 0]);
    expect(() => writeDcd([{ positions: ok.positions, cell: flat }], timing)).toThrow(/cannot write DCD: lattice vector c has zero length/);
    expect(() => writeDcd([], timing)).toThrow(/no frames/);
    expect(() => writeDcd([ok], { ...timing, stepInterval: 0 })).toThrow(/step interval/);
  });
});
