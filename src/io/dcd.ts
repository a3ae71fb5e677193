// CHARMM/NAMD DCD trajectory writer, the binary format VMD, MDAnalysis, mdtraj and NAMD read.
// Layout (little-endian, every block framed by its byte length as a Fortran unformatted record):
//   header  [84] "CORD" NSET ISTART NSAVC NSTEP 0 0 0 0 NAMNF=0 DELTA(float32) has-cell 4D=0 0×7 version=24 [84]
//   title   [4+80·n] n, n lines of 80 characters [4+80·n]
//   atoms   [4] N [4]
//   frame   ([48] A, cos γ, B, cos β, cos α, C as float64 [48] when has-cell) [4N] x… [4N] [4N] y… [4N] [4N] z… [4N]
// The cell record follows NAMD ≥ 2.5 (cosines of the angles); MDAnalysis and VMD's dcdplugin (used by mdtraj) turn
// values within [-1, 1] back into angles. Positions are float32 Å; times are ISTART + k·NSAVC steps of DELTA AKMA units.

import { toParameterFrame } from './cellOrientation';
import { StructureParseError } from './errors';
import { StructureWriteError } from './writeErrors';

/** One AKMA time unit (CHARMM's, in which DCD stores the time step) in fs. */
export const AKMA_TIME_FS = 48.88821;

/** Byte offset of NSET, ISTART, NSAVC and NSTEP (four int32), rewritten as frames are appended. */
export const DCD_COUNTS_OFFSET = 8;

const CHARMM_VERSION = 24;
const TITLE_LINES = 2;

export interface DcdFrame {
  /** Cartesian positions, N×3, Å. */
  positions: Float64Array;
  /** Lattice vectors as rows, Å; null for a molecule (then every frame has none). */
  cell: Float64Array | null;
}

export interface DcdLayout {
  numAtoms: number;
  /** Whether each frame carries a unit-cell record. */
  hasCell: boolean;
}

export interface DcdTiming {
  /** MD step of the first frame (ISTART). */
  firstStep: number;
  /** Steps between frames (NSAVC). */
  stepInterval: number;
  /** MD time step, fs (stored as DELTA in AKMA units). */
  timeStep_fs: number;
}

export interface DcdHeaderOptions extends DcdLayout, DcdTiming {
  frameCount: number;
  /** Free text for the title record (ASCII; longer text is cut to 80 characters per line). */
  title?: string;
}

function checkCount(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0x7fffffff) {
    throw new StructureWriteError('DCD', `${what} must be a whole number ≥ ${min} that fits in 32 bits, got ${value}`);
  }
}

/** The 16 bytes at DCD_COUNTS_OFFSET: NSET (frames), ISTART, NSAVC and NSTEP (the last frame's step, as VMD writes it). */
export function dcdCounts(frameCount: number, timing: DcdTiming): Uint8Array<ArrayBuffer> {
  checkCount(frameCount, 'the frame count', 0);
  checkCount(timing.firstStep, 'the first step', 0);
  checkCount(timing.stepInterval, 'the step interval', 1);
  const lastStep = timing.firstStep + Math.max(0, frameCount - 1) * timing.stepInterval;
  checkCount(lastStep, 'the last step', 0);
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  [frameCount, timing.firstStep, timing.stepInterval, lastStep].forEach((x, k) => v.setInt32(4 * k, x, true));
  return out;
}

/** Header, title and atom-count records. */
export function dcdHeader(o: DcdHeaderOptions): Uint8Array<ArrayBuffer> {
  checkCount(o.numAtoms, 'the atom count', 1);
  if (!(o.timeStep_fs > 0) || !Number.isFinite(o.timeStep_fs)) {
    throw new StructureWriteError('DCD', `the time step must be a positive number of fs, got ${o.timeStep_fs}`);
  }
  const titleBytes = 4 + 80 * TITLE_LINES;
  const out = new Uint8Array(4 + 84 + 4 + 4 + titleBytes + 4 + 12);
  const v = new DataView(out.buffer);
  let p = 0;
  const int = (x: number) => { v.setInt32(p, x, true); p += 4; };
  int(84);
  out.set([0x43, 0x4f, 0x52, 0x44], p); // "CORD"
  p += 4;
  out.set(dcdCounts(o.frameCount, o), p);
  p += 16;
  for (let k = 0; k < 4; k++) int(0);
  int(0); // NAMNF: no fixed atoms
  v.setFloat32(p, o.timeStep_fs / AKMA_TIME_FS, true);
  p += 4;
  int(o.hasCell ? 1 : 0);
  int(0); // no fourth dimension
  for (let k = 0; k < 7; k++) int(0);
  int(CHARMM_VERSION); // nonzero marks a CHARMM-style file, whose readers honour the has-cell flag
  int(84);
  int(titleBytes);
  int(TITLE_LINES);
  const lines = [`REMARKS ${o.title ?? 'written by scaip-web'}`, 'REMARKS positions in Angstrom, cell as NAMD writes it'];
  for (const line of lines) {
    for (let k = 0; k < 80; k++) {
      const ch = k < line.length ? line.charCodeAt(k) : 32;
      out[p++] = ch >= 32 && ch < 127 ? ch : 63; // '?' for anything outside printable ASCII
    }
  }
  int(titleBytes);
  int(4);
  int(o.numAtoms);
  int(4);
  return out;
}

/** Bytes of one frame record for this layout. */
export function dcdFrameBytes(layout: DcdLayout): number {
  return (layout.hasCell ? 56 : 0) + 3 * (8 + 4 * layout.numAtoms);
}

/** One frame: the unit-cell record (when the layout has one) and the x, y, z records. */
export function dcdFrame(layout: DcdLayout, frame: DcdFrame, frameLabel = 'the frame'): Uint8Array<ArrayBuffer> {
  const n = layout.numAtoms;
  if (frame.positions.length !== 3 * n) {
    throw new StructureWriteError('DCD', `${frameLabel} has ${frame.positions.length / 3} atoms, the trajectory ${n}`);
  }
  if ((frame.cell !== null) !== layout.hasCell) {
    throw new StructureWriteError('DCD', layout.hasCell
      ? `${frameLabel} has no cell but the trajectory's frames have one`
      : `${frameLabel} has a cell but the trajectory was started without one`);
  }
  const out = new Uint8Array(dcdFrameBytes(layout));
  const v = new DataView(out.buffer);
  let p = 0;
  let positions = frame.positions;
  if (frame.cell) {
    const oriented = toParameterFrame(frame.positions, frame.cell, 'DCD');
    positions = oriented.positions;
    const [a, b, c, alpha, beta, gamma] = oriented.parameters;
    // Exact zero for a right angle, so readers get 90° back without round-off.
    const cosDeg = (d: number) => (Math.abs(d - 90) < 1e-9 ? 0 : Math.cos((d * Math.PI) / 180));
    v.setInt32(p, 48, true);
    p += 4;
    for (const x of [a, cosDeg(gamma), b, cosDeg(beta), cosDeg(alpha), c]) { v.setFloat64(p, x, true); p += 8; }
    v.setInt32(p, 48, true);
    p += 4;
  }
  for (let d = 0; d < 3; d++) {
    v.setInt32(p, 4 * n, true);
    p += 4;
    for (let i = 0; i < n; i++) {
      const x = positions[3 * i + d];
      if (!Number.isFinite(x) || Math.abs(x) > 3.4e38) {
        throw new StructureWriteError('DCD', `${frameLabel}: atom ${i + 1} has ${'xyz'[d]} = ${x}, not a float32 position`);
      }
      v.setFloat32(p, x, true);
      p += 4;
    }
    v.setInt32(p, 4 * n, true);
    p += 4;
  }
  return out;
}

/** A whole trajectory as one DCD file. Frames must agree on the atom count and on having a cell. */
export function writeDcd(frames: DcdFrame[], timing: DcdTiming, title?: string): Uint8Array<ArrayBuffer> {
  if (frames.length === 0) throw new StructureWriteError('DCD', 'there are no frames to write');
  const layout: DcdLayout = { numAtoms: frames[0].positions.length / 3, hasCell: frames[0].cell !== null };
  const header = dcdHeader({ ...layout, ...timing, frameCount: frames.length, title });
  const size = dcdFrameBytes(layout);
  const out = new Uint8Array(header.length + frames.length * size);
  out.set(header, 0);
  frames.forEach((f, k) => out.set(dcdFrame(layout, f, `frame ${k + 1}`), header.length + k * size));
  return out;
}

export interface DcdFileInfo extends DcdLayout, DcdTiming {
  /** Frames actually in the file (from its size; the header's NSET may lag after an interrupted write). */
  frameCount: number;
  headerBytes: number;
  frameBytes: number;
}

/**
 * Reads the header of an existing DCD file (to append to it): `start` holds at least the header's bytes,
 * `fileSize` is the whole file's size. Refuses files this writer would not produce: big-endian, X-PLOR
 * (non-CHARMM), fixed atoms, 4D, or a size that ends mid-frame.
 */
export function readDcdHeader(start: Uint8Array, fileSize: number, fileName: string): DcdFileInfo {
  const fail = (problem: string): never => { throw new StructureParseError(fileName, null, problem); };
  const v = new DataView(start.buffer, start.byteOffset, start.byteLength);
  const int = (p: number) => (p + 4 <= start.length ? v.getInt32(p, true) : fail('the DCD header is cut short'));
  if (int(0) !== 84 || String.fromCharCode(...start.subarray(4, 8)) !== 'CORD') {
    if (start.length >= 4 && v.getInt32(0, false) === 84) fail('the DCD file is big-endian; only little-endian files can be appended to');
    fail('not a DCD file (no "CORD" header)');
  }
  if (int(84) === 0) fail('an X-PLOR DCD (no CHARMM version); only CHARMM-style files can be appended to');
  if (int(40) !== 0) fail('the DCD file has fixed atoms, which this writer does not support');
  if (int(52) !== 0) fail('the DCD file has a fourth dimension, which this writer does not support');
  if (int(88) !== 84) fail('the DCD header record is malformed');
  const titleBytes = int(92);
  if (titleBytes < 4 || (titleBytes - 4) % 80 !== 0 || int(96 + titleBytes) !== titleBytes) fail('the DCD title record is malformed');
  const q = 100 + titleBytes;
  if (int(q) !== 4 || int(q + 8) !== 4) fail('the DCD atom-count record is malformed');
  const layout: DcdLayout = { numAtoms: int(q + 4), hasCell: int(48) !== 0 };
  if (layout.numAtoms < 1) fail(`the DCD file claims ${layout.numAtoms} atoms`);
  const headerBytes = q + 12;
  const frameBytes = dcdFrameBytes(layout);
  const body = fileSize - headerBytes;
  if (body < 0 || body % frameBytes !== 0) {
    fail(`the DCD file's size (${fileSize} bytes) is not its header plus whole frames of ${frameBytes} bytes (${layout.numAtoms} atoms)`);
  }
  return {
    ...layout, frameCount: body / frameBytes, headerBytes, frameBytes,
    firstStep: int(12), stepInterval: int(16), timeStep_fs: v.getFloat32(44, true) * AKMA_TIME_FS,
  };
}
