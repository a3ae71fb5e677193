// Reading frames through a FrameIndex: the bytes of a run of frames in one read, each frame's text parsed by the
// whole-file reader (src/io), and its messages moved to the file's line and frame numbers.

import { StructureParseError } from '../../io/errors';
import { readPdb } from '../../io/pdb';
import type { Structure } from '../../io/structure';
import { readXyz } from '../../io/xyz';
import type { ByteSource } from './byteSource';
import type { BrokenFrame, FrameIndex } from './frameIndex';

/** Bytes read at once when reading runs of frames (at least one whole frame). */
export const READ_CHUNK_BYTES = 8 * 1024 * 1024;

const decoder = new TextDecoder();

/**
 * The reader's error for a frame parsed alone, told for the whole file: its line moved by the frame's first line,
 * and (XYZ) "frame 1" renamed to the frame's number, since the reader counted frames from this one.
 */
function inFile(e: unknown, fileName: string, firstLine: number, frameNo: number): unknown {
  if (!(e instanceof StructureParseError)) return e;
  const line = e.line === null ? null : e.line + firstLine - 1;
  const problem = frameNo === 1 ? e.problem : e.problem.replace(/\bframe 1\b/g, `frame ${frameNo}`);
  return new StructureParseError(fileName, line, problem);
}

/** Frame `k` of the index from its text. */
export function parseFrameText(index: FrameIndex, k: number, text: string, fileName: string): Structure {
  const firstLine = index.line[k];
  try {
    if (index.format === 'xyz') {
      const frames = readXyz(text, fileName);
      return frames[0];
    }
    const [s] = readPdb(text, fileName);
    const cell = index.cells![k];
    return { ...s, cell: cell ? Float64Array.from(cell) : null, pbc: cell ? [true, true, true] : [false, false, false] };
  } catch (e) {
    throw inFile(e, fileName, firstLine, k + 1);
  }
}

/** Parses what the index scan could not close, which throws the reader's own message for it. */
export async function throwBrokenFrame(src: ByteSource, broken: BrokenFrame, fileName: string): Promise<never> {
  const text = decoder.decode(await src.read(broken.start, broken.end));
  try {
    readXyz(text, fileName);
  } catch (e) {
    throw inFile(e, fileName, broken.line, broken.frameNo);
  }
  throw new StructureParseError(fileName, broken.line, `frame ${broken.frameNo} could not be read`);
}

/**
 * Visits frames `frames` (ascending indices) in order, reading the bytes of as many consecutive frames as fit in
 * READ_CHUNK_BYTES at once. `visit` may stop the walk by returning false.
 */
export async function visitFrames(
  src: ByteSource,
  index: FrameIndex,
  fileName: string,
  frames: ArrayLike<number>,
  visit: (k: number, s: Structure) => boolean | void,
): Promise<void> {
  let i = 0;
  while (i < frames.length) {
    const first = frames[i];
    const from = index.start[first];
    let j = i + 1;
    while (j < frames.length && index.end[frames[j]] - from <= READ_CHUNK_BYTES && frames[j] > frames[j - 1]) j++;
    const last = frames[j - 1];
    const bytes = await src.read(from, index.end[last]);
    for (let m = i; m < j; m++) {
      const k = frames[m];
      const text = decoder.decode(bytes.subarray(index.start[k] - from, index.end[k] - from));
      if (visit(k, parseFrameText(index, k, text, fileName)) === false) return;
    }
    i = j;
  }
}

/** One frame. */
export async function readFrame(src: ByteSource, index: FrameIndex, fileName: string, k: number): Promise<Structure> {
  let out: Structure | null = null;
  await visitFrames(src, index, fileName, [k], (_, s) => {
    out = s;
  });
  return out!;
}

/** Frame indices from `from` to `to` (inclusive) every `stride`. */
export function frameRange(from: number, to: number, stride: number): Int32Array {
  const n = to >= from ? Math.floor((to - from) / stride) + 1 : 0;
  return Int32Array.from({ length: n }, (_, m) => from + m * stride);
}
