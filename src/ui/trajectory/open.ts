// Opening a structure file as a trajectory (what the parser worker does with a dropped or opened file): index its
// frames by byte offset, then read them once in order to check they are one system and gather the per-frame
// observables. Frames are read again on demand (the viewer's frame, an RDF range); the worker keeps only the index,
// the series and one read chunk, and the page only the frame it shows.

import { StructureParseError } from '../../io/errors';
import { detectFormat, readStructures } from '../../io/read';
import type { Structure } from '../../io/structure';
import type { ByteSource } from './byteSource';
import { TrajectoryAtomsChangedError } from './errors';
import { indexPdb, indexXyz, type FrameIndex } from './frameIndex';
import { frameRange, throwBrokenFrame, visitFrames } from './frameRead';
import { SeriesBuilder, type TrajectorySeries } from './series';

export interface TrajectorySummary {
  fileName: string;
  format: 'xyz' | 'pdb';
  frames: number;
  atoms: number;
  bytes: number;
  /** The first frame, which becomes the workbench's system. */
  first: Structure;
  series: TrajectorySeries;
  has: { energy: boolean; forces: boolean; velocities: boolean; time: boolean; cells: 'none' | 'fixed' | 'per-frame' };
  /** Frames are read from the file by byte offset (false: the file was read whole, see openTrajectory). */
  indexed: boolean;
}

/** The frames of an opened file: by index from the file, or held in memory for a file read whole. */
export interface FrameStore {
  readonly count: number;
  /** Visits frames (ascending indices) in order; `visit` returning false stops. */
  visit(frames: ArrayLike<number>, visit: (k: number, s: Structure) => boolean | void): Promise<void>;
}

export interface OpenedTrajectory {
  summary: TrajectorySummary;
  store: FrameStore;
}

function indexedStore(src: ByteSource, index: FrameIndex, fileName: string): FrameStore {
  return { count: index.count, visit: (frames, visit) => visitFrames(src, index, fileName, frames, visit) };
}

function memoryStore(frames: Structure[]): FrameStore {
  return {
    count: frames.length,
    visit: async (list, visit) => {
      for (let m = 0; m < list.length; m++) if (visit(list[m], frames[list[m]]) === false) return;
    },
  };
}

function sameSystem(a: Structure, b: Structure): boolean {
  if (a.numbers.length !== b.numbers.length) return false;
  for (let i = 0; i < a.numbers.length; i++) if (a.numbers[i] !== b.numbers[i]) return false;
  return true;
}

const decoder = new TextDecoder();

/**
 * Index and read `src` as a trajectory; progress goes 0 → 1 over the index scan (first quarter) and the read.
 * `wholeLimit`: files that cannot be indexed frame by frame (single-structure PDB, lines ending in "\r" alone) are
 * read whole by src/io as before, up to this size. Throws StructureParseError (the readers' messages, with the
 * file's line) for a malformed file and TrajectoryAtomsChangedError, carrying frame 1, for frames that are not
 * the same atoms.
 */
export async function openTrajectory(
  src: ByteSource,
  fileName: string,
  wholeLimit: number,
  progress: (fraction: number, frames: number) => void = () => {},
  scanChunkBytes?: number,
): Promise<OpenedTrajectory> {
  const sample = decoder.decode(await src.read(0, Math.min(src.size, 64 * 1024)));
  const format = detectFormat(sample, fileName);
  let store: FrameStore;
  let lines: (k: number) => number;
  let indexed = true;
  const scanned = format === 'xyz'
    ? await indexXyz(src, (f) => progress(0.25 * f, 0), scanChunkBytes)
    : format === 'pdb'
      ? await indexPdb(src, fileName, (f) => progress(0.25 * f, 0), scanChunkBytes)
      : { unindexable: 'unknown format' };
  if ('unindexable' in scanned) {
    if (src.size > wholeLimit) {
      throw new StructureParseError(fileName, null, `the file is ${(src.size / 2 ** 20).toFixed(1)} MiB and cannot be read frame by frame (${scanned.unindexable}); the workbench reads such files up to ${(wholeLimit / 2 ** 20).toFixed(0)} MiB`);
    }
    // readStructures gives the format's own message for an unknown or empty file.
    const frames = readStructures(decoder.decode(await src.read(0, src.size)), fileName);
    store = memoryStore(frames);
    lines = () => 1;
    indexed = false;
  } else {
    if (scanned.broken) await throwBrokenFrame(src, scanned.broken, fileName);
    if (scanned.index.count === 0) throw new StructureParseError(fileName, null, 'the file is empty (no atoms to read)');
    store = indexedStore(src, scanned.index, fileName);
    const index = scanned.index;
    lines = (k) => index.line[k];
  }

  let first: Structure | null = null;
  let builder: SeriesBuilder | null = null;
  let cells: 'none' | 'fixed' | 'per-frame' = 'none';
  const step = Math.max(1, Math.floor(store.count / 200));
  await store.visit(frameRange(0, store.count - 1, 1), (k, s) => {
    if (!first) {
      first = s;
      builder = new SeriesBuilder(s);
      cells = s.cell ? 'fixed' : 'none';
    } else if (!sameSystem(first, s)) {
      const f1 = first as Structure;
      const what = s.numbers.length !== f1.numbers.length
        ? `frame ${k + 1} has ${s.numbers.length} atoms where frame 1 has ${f1.numbers.length}`
        : `frame ${k + 1} has the same number of atoms as frame 1 but other elements (or in another order)`;
      throw new TrajectoryAtomsChangedError(fileName, lines(k), k + 1,
        `${what}: a trajectory's frames must be the same atoms, so it cannot be played or analysed as one (frame 1 can be opened on its own)`, f1);
    } else if (cells === 'fixed' && s.cell && !s.cell.every((x, i) => x === (first as Structure).cell![i])) {
      cells = 'per-frame';
    }
    builder!.push(s);
    if (k % step === 0) progress(0.25 + 0.75 * ((k + 1) / store.count), k + 1);
  });
  const f = first as unknown as Structure;
  const series = (builder as unknown as SeriesBuilder).series;
  const any = (xs: number[]) => xs.some((x) => Number.isFinite(x));
  progress(1, store.count);
  return {
    store,
    summary: {
      fileName,
      format: format as 'xyz' | 'pdb',
      frames: store.count,
      atoms: f.numbers.length,
      bytes: src.size,
      first: f,
      series,
      has: { energy: any(series.energy), forces: any(series.fmax), velocities: any(series.temperature), time: series.time_fs.every((x) => Number.isFinite(x)), cells },
      indexed,
    },
  };
}
