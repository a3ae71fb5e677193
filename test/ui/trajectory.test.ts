// The trajectory reader (src/ui/trajectory): frames indexed by byte offset and read one chunk at a time must be the
// frames the whole-file readers give, on the real-world corpus and on edge cases (chunk boundaries inside lines,
// CRLF, blank lines between frames, errors in a later frame); MSD unwrapping against the true path; g(r) over a
// frame range against ASE.
import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StructureParseError } from '../../src/io/errors';
import { readStructures } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import { writeExtXyz } from '../../src/io/xyz';
import { msdSeries } from '../../src/ui/geometry/msd';
import { RdfAccumulator } from '../../src/ui/geometry/rdf';
import { blobSource, type ByteSource } from '../../src/ui/trajectory/byteSource';
import { TrajectoryAtomsChangedError } from '../../src/ui/trajectory/errors';
import { frameRange } from '../../src/ui/trajectory/frameRead';
import { openTrajectory } from '../../src/ui/trajectory/open';
import { REALWORLD_DIR, realworldPath } from '../io/realworldDir';
import { rng } from '../helpers/systems';

const LIMIT = 256 * 1024 * 1024;

function textSource(text: string): ByteSource {
  return blobSource(new Blob([text]));
}

async function allFrames(text: string, name: string, chunk?: number): Promise<Structure[]> {
  const t = await openTrajectory(textSource(text), name, LIMIT, undefined, chunk);
  const out: Structure[] = [];
  await t.store.visit(frameRange(0, t.store.count - 1, 1), (_, s) => void out.push(s));
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<StructureParseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StructureParseError);
    return e as StructureParseError;
  }
  throw new Error('expected a StructureParseError');
}

describe('trajectory frames read by byte offset equal the whole-file readers', () => {
  const files = REALWORLD_DIR ? readdirSync(REALWORLD_DIR).filter((f) => /\.(xyz|extxyz|pdb|ent)$/i.test(f)).sort() : [];
  it('the real-world corpus is there', () => expect(files.length).toBeGreaterThan(20));

  it.each(files)('%s', async (name) => {
    const path = realworldPath(name);
    const text = readFileSync(path, 'utf8');
    let whole: Structure[] | null = null;
    let wholeError: StructureParseError | null = null;
    try {
      whole = readStructures(text, name);
    } catch (e) {
      wholeError = e as StructureParseError;
    }
    // The file itself, as the worker gets it (a Blob read in slices); a small scan chunk so lines straddle chunks.
    const open = openTrajectory(blobSource(await openAsBlob(path)), name, LIMIT, undefined, 4096);
    if (wholeError) {
      expect((await errorOf(open)).message).toBe(wholeError.message);
      return;
    }
    const sameAtoms = whole!.every((s) => s.numbers.length === whole![0].numbers.length && s.numbers.every((z, i) => z === whole![0].numbers[i]));
    if (!sameAtoms) {
      const e = await errorOf(open);
      expect(e).toBeInstanceOf(TrajectoryAtomsChangedError);
      expect(e.problem).toMatch(/^frame \d+ has /);
      expect((e as TrajectoryAtomsChangedError).first).toEqual(whole![0]);
      return;
    }
    const t = await open;
    expect(t.summary.frames).toBe(whole!.length);
    const frames: Structure[] = [];
    await t.store.visit(frameRange(0, t.store.count - 1, 1), (_, s) => void frames.push(s));
    expect(frames).toEqual(whole);
  });
});

describe('trajectory edge cases', () => {
  const r = rng(7);
  const frames: Structure[] = Array.from({ length: 12 }, (_, k) => ({
    numbers: Int32Array.from([8, 1, 1]),
    positions: Float64Array.from({ length: 9 }, () => 10 * r()),
    cell: Float64Array.from([10 + 0.01 * k, 0, 0, 0, 10, 0, 0.5, 0, 10]),
    pbc: [true, true, true],
    charge: 0,
    spin: 1,
    info: { energy: 1 - k * 0.5, step: k, time_fs: 2 * k },
    arrays: { forces: Float64Array.from({ length: 9 }, () => r() - 0.5), momenta: Float64Array.from({ length: 9 }, () => r() - 0.5) },
  }));
  const text = writeExtXyz(frames);

  it.each([7, 64, 1000, 1 << 20])('chunk of %i bytes: the frames and observables of a written extXYZ', async (chunk) => {
    expect(await allFrames(text, 'a.extxyz', chunk)).toEqual(readStructures(text, 'a.extxyz'));
    const t = await openTrajectory(textSource(text), 'a.extxyz', LIMIT, undefined, chunk);
    expect(t.summary.series.energy).toEqual(frames.map((f) => f.info!.energy));
    expect(t.summary.series.time_fs).toEqual(frames.map((f) => f.info!.time_fs));
    expect(t.summary.has).toEqual({ energy: true, forces: true, velocities: true, time: true, cells: 'per-frame' });
    const fmax = frames.map((f) => Math.max(...[0, 1, 2].map((a) => Math.hypot(...(f.arrays!.forces as Float64Array).slice(3 * a, 3 * a + 3)))));
    t.summary.series.fmax.forEach((x, k) => expect(x).toBeCloseTo(fmax[k], 14));
  });

  it('CRLF line ends and blank lines between frames', async () => {
    const crlf = text.split('\n').join('\r\n').replace(/\r\n(\d+\r\n)/g, '\r\n\r\n  \r\n$1');
    expect(await allFrames(crlf, 'b.xyz', 33)).toEqual(readStructures(crlf, 'b.xyz'));
  });

  it('lines ending in "\\r" alone are read whole (within the limit), as before', async () => {
    const cr = text.split('\n').join('\r');
    expect(await allFrames(cr, 'c.xyz')).toEqual(readStructures(cr, 'c.xyz'));
  });

  it('a bad number in frame 9 and a truncated last frame are reported with the whole-file reader\'s line and message', async () => {
    const lines = text.split('\n');
    const perFrame = 5;
    const bad = [...lines];
    bad[8 * perFrame + 3] = bad[8 * perFrame + 3].replace(/^(\S+\s+)\S+/, '$1x1.5');
    const wholeBad = (() => { try { readStructures(bad.join('\n'), 'd.xyz'); } catch (e) { return (e as Error).message; } return ''; })();
    expect(wholeBad).toMatch(/line 44:/);
    expect((await errorOf(allFrames(bad.join('\n'), 'd.xyz', 100))).message).toBe(wholeBad);
    const cut = lines.slice(0, lines.length - 3).join('\n');
    const wholeCut = (() => { try { readStructures(cut, 'e.xyz'); } catch (e) { return (e as Error).message; } return ''; })();
    expect(wholeCut).toMatch(/frame 12/);
    expect((await errorOf(allFrames(cut, 'e.xyz', 100))).message).toBe(wholeCut);
  });

  it('a frame with another atom count is refused with TrajectoryAtomsChangedError naming the frame and its line', async () => {
    const more = writeExtXyz([frames[0], frames[1], { ...frames[2], numbers: Int32Array.from([8, 1, 1, 1]), positions: new Float64Array(12), arrays: {} }]);
    const e = await errorOf(allFrames(more, 'f.xyz'));
    expect(e).toBeInstanceOf(TrajectoryAtomsChangedError);
    expect(e.line).toBe(11);
    expect(e.problem).toMatch(/^frame 3 has 4 atoms where frame 1 has 3/);
    const swapped = writeExtXyz([frames[0], { ...frames[1], numbers: Int32Array.from([1, 8, 1]) }]);
    expect((await errorOf(allFrames(swapped, 'g.xyz'))).problem).toMatch(/^frame 2 has the same number of atoms as frame 1 but other elements/);
  });
});

describe('MSD with unwrapping across periodic boundaries', () => {
  it('equals the true mean squared displacement of a random walk written wrapped into a triclinic cell', () => {
    const r = rng(3);
    const cell = Float64Array.from([6, 0, 0, 1.5, 5.5, 0, -1, 0.8, 7]);
    const inv = (() => {
      // Fractional coordinates by solving with the cell rows (Cramer's rule is enough for a test).
      const [a, b, c, d, e, f, g, h, i] = cell;
      const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
      return [(e * i - f * h) / det, -(b * i - c * h) / det, (b * f - c * e) / det, -(d * i - f * g) / det, (a * i - c * g) / det, -(a * f - c * d) / det, (d * h - e * g) / det, -(a * h - b * g) / det, (a * e - b * d) / det];
    })();
    const n = 20;
    let truth = Float64Array.from({ length: 3 * n }, () => 6 * r());
    const origin = truth.slice();
    const wrapped: { positions: Float64Array; cell: Float64Array }[] = [];
    const expected: number[] = [];
    for (let k = 0; k < 200; k++) {
      if (k > 0) truth = truth.map((x) => x + 1.2 * (r() - 0.5));
      const w = new Float64Array(3 * n);
      for (let a = 0; a < n; a++) {
        const p = truth.slice(3 * a, 3 * a + 3);
        const f = [0, 1, 2].map((j) => p[0] * inv[j] + p[1] * inv[3 + j] + p[2] * inv[6 + j]).map((x) => x - Math.floor(x));
        for (let d = 0; d < 3; d++) w[3 * a + d] = f[0] * cell[d] + f[1] * cell[3 + d] + f[2] * cell[6 + d];
      }
      wrapped.push({ positions: w, cell });
      expected.push(truth.reduce((s, x, i) => s + (x - origin[i]) ** 2, 0) / n);
    }
    const msd = msdSeries(wrapped, [true, true, true]);
    expect(Math.max(...expected)).toBeGreaterThan(30); // the walk crossed the boundaries many times
    msd.forEach((x, k) => expect(Math.abs(x - expected[k])).toBeLessThan(1e-9));
  });
});

describe('g(r) over a frame range', () => {
  it('averages each frame\'s g(r) as ASE\'s get_rdf does (ours times (N−1)/N: ASE normalises all pairs by N² instead of N(N−1))', async () => {
    const r = rng(11);
    const n = 40;
    const frames: Structure[] = Array.from({ length: 8 }, (_, k) => ({
      numbers: Int32Array.from({ length: n }, (_, i) => (i % 2 ? 18 : 10)),
      positions: Float64Array.from({ length: 3 * n }, () => 9 * r()),
      cell: Float64Array.from([9 + 0.2 * k, 0, 0, 0, 9.5 - 0.1 * k, 0, 0, 0, 10]),
      pbc: [true, true, true],
      charge: 0,
      spin: 1,
    }));
    const text = writeExtXyz(frames);
    const t = await openTrajectory(textSource(text), 'rdf.extxyz', LIMIT);
    const acc = new RdfAccumulator(frames[0].numbers, frames[0].pbc, 4, 40);
    await t.store.visit(frameRange(2, 7, 2), (_, s) => acc.add(s.positions, s.cell));
    const ours = acc.result()!;
    const script = `
import sys, json, numpy as np
from ase.io import read
from ase.ga.utilities import get_rdf
frames = read(sys.argv[1], index='2:8:2')
g = np.mean([get_rdf(a, 4.0, 40)[0] for a in frames], axis=0)
print(json.dumps(g.tolist()))`;
    const path = `${process.env.TMPDIR ?? '/tmp'}/scaip-rdf-${process.pid}.extxyz`;
    (await import('node:fs')).writeFileSync(path, text);
    const ase = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' })) as number[];
    expect(acc.frames).toBe(3);
    const scale = (n - 1) / n;
    ours.g.forEach((g, k) => expect(Math.abs(g * scale - ase[k])).toBeLessThan(1e-9));
    expect(Math.max(...ours.g)).toBeGreaterThan(0.5);
  });
});
