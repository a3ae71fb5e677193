// `npm run md -- --traj <file>`: the format follows the extension. A DCD run is read back by MDAnalysis and mdtraj
// (with the run's --topology PDB) and matches the extXYZ of the same (deterministic, float64 CPU) run; a resumed
// run continues the DCD file to the same bytes as an uninterrupted one; unknown extensions are refused.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMd, type MdIo } from '../../src/cli/mdCommand';
import { trajectoryFormat } from '../../src/cli/trajectoryOutput';
import { cellParameters } from '../../src/geometry/cell';
import { readDcdHeader } from '../../src/io/dcd';
import { readStructures } from '../../src/io/read';
import { writeExtXyz } from '../../src/io/xyz';
import { fccLattice } from '../../src/md/setup';
import { readBack } from '../helpers/readBack';

const dir = mkdtempSync(join(tmpdir(), 'md-traj-'));
const argon = fccLattice(18, 2, 5.8);
const system = join(dir, 'ar32.extxyz');
writeFileSync(system, writeExtXyz(argon));

function capture(): MdIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (s) => out.push(s), error: (s) => err.push(s), progress: () => {}, isTty: false };
}

// NPT so that the cell changes from frame to frame; LJ on the float64 CPU engine is fast and deterministic.
const base = ['--system', system, '--potential', 'lj', '--lj-cutoff', '5', '--temperature', '100', '--dt', '10',
  '--ensemble', 'npt', '--pressure', '1', '--barostat-every', '2', '--seed', '3', '--backend', 'cpu', '--every', '50'];

describe('npm run md --traj', () => {
  it('picks the format from the extension', () => {
    expect(['a.extxyz', 'b.XYZ', 'dir.v2/c.dcd', 'd.pdb', 'e', 'f.trr'].map(trajectoryFormat)).toEqual(['extxyz', 'extxyz', 'dcd', null, null, null]);
  });

  it('writes a DCD that MDAnalysis and mdtraj read with the extXYZ run\'s frames, positions and cells', async () => {
    const dcd = join(dir, 'run.dcd'), xyz = join(dir, 'run.extxyz'), top = join(dir, 'run.pdb');
    expect(await runMd([...base, '--steps', '200', '--traj', dcd, '--topology', top], capture())).toBe(0);
    expect(await runMd([...base, '--steps', '200', '--traj', xyz], capture())).toBe(0);
    const ref = readStructures(readFileSync(xyz, 'utf8'), 'run.extxyz');
    expect(ref.map((f) => f.info!.step)).toEqual([0, 50, 100, 150, 200]);
    // The barostat moved the box, so the per-frame cells are really being checked.
    expect(Math.abs(ref[4].cell![0] - ref[0].cell![0])).toBeGreaterThan(0.01);
    // The run's own --topology PDB: argon with the starting cell.
    const [start] = readStructures(readFileSync(top, 'utf8'), 'run.pdb');
    expect(Array.from(start.numbers)).toEqual(new Array(32).fill(18));
    expect(cellParameters(start.cell!)[0]).toBeCloseTo(11.6, 3);
    const r = readBack(top, dcd);
    for (const tool of [r.mdanalysis, r.mdtraj]) {
      expect(tool.frames).toBe(5);
      expect(tool.atoms).toBe(32);
      ref.forEach((f, k) => {
        const worst = Math.max(...tool.positions[k].map((x, i) => Math.abs(x - f.positions[i])));
        expect(worst).toBeLessThan(1e-3);
        const want = cellParameters(f.cell!);
        tool.cells[k]!.forEach((x, j) => expect(Math.abs(x - want[j])).toBeLessThan(1e-4));
      });
    }
    // Frame k is step 50k of 10 fs: 0.5 ps apart.
    r.mdanalysis.times_ps!.forEach((t, k) => expect(t).toBeCloseTo(0.5 * k, 5));
  });

  it('continues the DCD file on --resume, ending with the same bytes as an uninterrupted run', async () => {
    const full = join(dir, 'full.dcd'), part = join(dir, 'part.dcd'), ck = join(dir, 'ck.json');
    expect(await runMd([...base, '--steps', '200', '--traj', full], capture())).toBe(0);
    expect(await runMd([...base, '--steps', '100', '--traj', part, '--checkpoint', ck], capture())).toBe(0);
    expect(readDcdHeader(readFileSync(part), readFileSync(part).length, part).frameCount).toBe(3);
    expect(await runMd(['--resume', ck, '--potential', 'lj', '--lj-cutoff', '5', '--steps', '100', '--every', '50', '--traj', part], capture())).toBe(0);
    expect(Buffer.compare(readFileSync(part), readFileSync(full))).toBe(0);
    // A different frame interval cannot continue the file (DCD keeps one).
    const io = capture();
    expect(await runMd(['--resume', ck, '--potential', 'lj', '--lj-cutoff', '5', '--steps', '100', '--every', '25', '--traj', part], io)).toBe(1);
    expect(io.err.join('\n')).toMatch(/part\.dcd: the DCD file has frames every 50 steps of 10\.0000 fs, this run every 25 of 10 fs/);
  });

  it('warns when the last frame is off the DCD frame grid', async () => {
    const io = capture();
    const dcd = join(dir, 'odd.dcd');
    expect(await runMd([...base, '--steps', '130', '--traj', dcd], io)).toBe(0);
    expect(io.err.join('\n')).toMatch(/warning: .*odd\.dcd: the frame of step 130 is written as step 150/);
    expect(readDcdHeader(readFileSync(dcd), readFileSync(dcd).length, dcd).frameCount).toBe(4);
  });

  it('refuses an unknown trajectory extension, and a topology that is not .pdb, before running', async () => {
    const io = capture();
    const bad = join(dir, 'run.trr');
    expect(await runMd([...base, '--steps', '10', '--traj', bad], io)).toBe(2);
    expect(io.err[0]).toMatch(/--traj .*run\.trr: unknown trajectory format; use \.extxyz, \.xyz \(extXYZ\) or \.dcd \(DCD\)/);
    expect(existsSync(bad)).toBe(false);
    const io2 = capture();
    expect(await runMd([...base, '--steps', '10', '--topology', join(dir, 'top.xyz')], io2)).toBe(2);
    expect(io2.err[0]).toMatch(/--topology .*top\.xyz: the topology is written as PDB; give a \.pdb file/);
  });
});
