// Where each frame of a multi-frame XYZ/extXYZ or PDB file starts and ends, found in one pass over its bytes in
// chunks: only XYZ count lines and PDB record names are decoded, so a 200 MB file is indexed with a few MiB of
// memory. Frames are then read one by one (or a chunk of them at a time) by frameRead.ts with the whole-file
// readers of src/io, so a frame read through the index is the frame those readers give.

import { StructureParseError } from '../../io/errors';
import { modelCells, parseCryst1, type CrystRecord } from '../../io/pdb';
import type { StructureFormat } from '../../io/read';
import type { ByteSource } from './byteSource';

/** Bytes read per step of the scan. */
export const SCAN_CHUNK_BYTES = 8 * 1024 * 1024;
/** Longest line, and so the largest partial line carried between chunks (the XYZ reader takes 10 MB comment lines). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface FrameIndex {
  format: StructureFormat;
  count: number;
  /** Byte offset of each frame's first line, and one past its last line (newline included). */
  start: Float64Array;
  end: Float64Array;
  /** 1-based line number of each frame's first line (for messages). */
  line: Float64Array;
  /** PDB: each frame's cell by the PDB reader's multi-model policy (a MODEL block alone does not say). */
  cells: (Float64Array | null)[] | null;
}

/** Why the file cannot be indexed frame by frame: the caller reads it whole instead (within the size limit). */
export type Unindexable = { unindexable: string };

/** Growable columns of frame spans. */
class Spans {
  start = new Float64Array(64);
  end = new Float64Array(64);
  line = new Float64Array(64);
  count = 0;
  push(start: number, end: number, line: number): void {
    if (this.count === this.start.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.line = grow(this.line);
    }
    this.start[this.count] = start;
    this.end[this.count] = end;
    this.line[this.count] = line;
    this.count++;
  }
  index(format: StructureFormat, cells: (Float64Array | null)[] | null): FrameIndex {
    const n = this.count;
    return { format, count: n, start: this.start.slice(0, n), end: this.end.slice(0, n), line: this.line.slice(0, n), cells };
  }
}

/** Visits one line: bytes [from, to) of `buf` (newline excluded), file offsets of its start and of the next line. Return false to stop. */
type LineVisitor = (buf: Uint8Array, from: number, to: number, offset: number, next: number, lineNo: number) => boolean;

/**
 * Every line of the file in order, a chunk at a time. Lines end at "\n" ("\r\n" leaves the "\r" on the line, as the
 * readers' split does). A file that ends lines with "\r" alone has no "\n" to find: it is reported unindexable.
 */
async function walkLines(src: ByteSource, visit: LineVisitor, progress?: (fraction: number) => void, chunkBytes = SCAN_CHUNK_BYTES): Promise<Unindexable | null> {
  let carry = new Uint8Array(0);
  let carryOffset = 0;
  let lineNo = 1;
  for (let pos = 0; pos < src.size; ) {
    const chunk = await src.read(pos, Math.min(src.size, pos + chunkBytes));
    if (pos === 0 && chunk.indexOf(10) < 0 && chunk.indexOf(13) >= 0 && chunk.length === src.size) {
      return { unindexable: 'lines end in "\\r" alone' };
    }
    pos += chunk.length;
    let buf = chunk;
    if (carry.length > 0) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
    }
    const bufOffset = carry.length > 0 ? carryOffset : pos - chunk.length;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(10, from);
      if (nl < 0) break;
      if (!visit(buf, from, nl, bufOffset + from, bufOffset + nl + 1, lineNo++)) return null;
      from = nl + 1;
    }
    carry = buf.slice(from);
    carryOffset = bufOffset + from;
    if (carry.length > MAX_LINE_BYTES) {
      return { unindexable: `line ${lineNo} is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB (or its lines end in "\\r" alone)` };
    }
    progress?.(pos / src.size);
  }
  if (carry.length > 0) visit(carry, 0, carry.length, carryOffset, carryOffset + carry.length, lineNo);
  return null;
}

function isBlank(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) return false;
  }
  return true;
}

const decoder = new TextDecoder();

/**
 * A frame the scan could not close (bad count line, truncated last frame): the caller parses [start, end) with the
 * reader, which names the problem exactly as it does for the whole file.
 */
export interface BrokenFrame {
  start: number;
  end: number;
  line: number;
  frameNo: number;
}

/** Frames of an XYZ/extXYZ file: a count line (first word = atom count), a comment line, that many atom lines. */
export async function indexXyz(src: ByteSource, progress?: (f: number) => void, chunkBytes = SCAN_CHUNK_BYTES): Promise<{ index: FrameIndex; broken: BrokenFrame | null } | Unindexable> {
  const spans = new Spans();
  let left = 0; // lines still to take for the current frame (comment + atoms)
  let frameStart = 0;
  let frameLine = 0;
  let broken: BrokenFrame | null = null;
  const why = await walkLines(src, (buf, from, to, offset, next, lineNo) => {
    if (left > 0) {
      if (--left === 0) spans.push(frameStart, next, frameLine);
      return true;
    }
    if (isBlank(buf, from, to)) return true;
    // The count line: its first word, decoded alone (a BOM at the very start is dropped by the decoder).
    const text = decoder.decode(buf.subarray(from, Math.min(to, from + 256))).trim();
    const first = text.split(/\s+/)[0];
    frameStart = offset;
    frameLine = lineNo;
    if (!/^\d+$/.test(first) || Number(first) === 0) {
      broken = { start: offset, end: next, line: lineNo, frameNo: spans.count + 1 };
      return false;
    }
    left = Number(first) + 1;
    return true;
  }, progress, chunkBytes);
  if (why) return why;
  if (broken === null && left > 0) broken = { start: frameStart, end: src.size, line: frameLine, frameNo: spans.count + 1 };
  return { index: spans.index('xyz', null), broken };
}

function recordName(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < Math.min(to, from + 6); i++) s += String.fromCharCode(buf[i]);
  return s.trim().toUpperCase();
}

/**
 * Frames of a multi-model PDB file: one per MODEL … ENDMDL block with atoms, each with the cell the PDB reader gives
 * it. A file with atoms outside MODEL blocks (a single structure, or an irregular file) is unindexable: it is read
 * whole, as before.
 */
export async function indexPdb(src: ByteSource, fileName: string, progress?: (f: number) => void, chunkBytes = SCAN_CHUNK_BYTES): Promise<{ index: FrameIndex; broken: null } | Unindexable> {
  const crysts: CrystRecord[] = [];
  const models: { start: number; end: number; line: number; endLine: number; atoms: boolean }[] = [];
  let current: (typeof models)[number] | null = null;
  let irregular: string | null = null;
  let lastOffset = 0;
  const why = await walkLines(src, (buf, from, to, offset, next, lineNo) => {
    lastOffset = next;
    const record = recordName(buf, from, to);
    if (record === 'CRYST1') {
      const line = decoder.decode(buf.subarray(from, to));
      const fail = (problem: string): never => {
        throw new StructureParseError(fileName, lineNo, problem);
      };
      crysts.push({ line: lineNo - 1, cell: parseCryst1(line, fail) });
    } else if (record === 'MODEL') {
      if (current) current.end = offset;
      current = { start: offset, end: next, line: lineNo, endLine: lineNo - 1, atoms: false };
      models.push(current);
    } else if (record === 'ENDMDL') {
      if (!current) {
        irregular = 'ENDMDL without MODEL';
        return false;
      }
      current.end = next;
      current.endLine = lineNo - 1;
      current = null;
    } else if (record === 'END') {
      if (current) current.end = offset;
      current = null;
      return false;
    } else if (record === 'ATOM' || record === 'HETATM') {
      if (!current) {
        irregular = 'atoms outside MODEL blocks';
        return false;
      }
      current.atoms = true;
      current.endLine = lineNo - 1;
    }
    return true;
  }, progress, chunkBytes);
  if (why) return why;
  if (irregular !== null || models.length === 0) return { unindexable: irregular ?? 'no MODEL records' };
  if (current) (current as (typeof models)[number]).end = lastOffset;
  const cells = modelCells(models.map((m) => m.endLine), crysts);
  const spans = new Spans();
  const kept: (Float64Array | null)[] = [];
  models.forEach((m, k) => {
    if (!m.atoms) return;
    spans.push(m.start, m.end, m.line);
    kept.push(cells[k]);
  });
  if (spans.count === 0) return { unindexable: 'no atoms in any MODEL' };
  return { index: spans.index('pdb', kept), broken: null };
}
