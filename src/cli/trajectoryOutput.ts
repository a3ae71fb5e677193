// `npm run md -- --traj <file>`: the trajectory file, in the format its extension names (.extxyz/.xyz → extXYZ with
// energies, forces and momenta; .dcd → CHARMM/NAMD DCD with the unit cell). Frames are appended as the run goes,
// so an interrupted run leaves a readable file, and a resumed run (--resume) continues the same file.
import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync, appendFileSync, writeSync } from 'node:fs';
import { dcdCounts, DCD_COUNTS_OFFSET, dcdFrame, dcdHeader, readDcdHeader, type DcdLayout, type DcdTiming } from '../io/dcd';
import type { Structure } from '../io/structure';
import { writeExtXyz } from '../io/xyz';

export type TrajectoryFormat = 'extxyz' | 'dcd';

const EXTENSIONS: Record<string, TrajectoryFormat> = { extxyz: 'extxyz', xyz: 'extxyz', dcd: 'dcd' };

/** Format named by the file's extension, or null for an extension we do not write. */
export function trajectoryFormat(path: string): TrajectoryFormat | null {
  const base = path.split(/[\\/]/).pop() ?? path;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? EXTENSIONS[base.slice(dot + 1).toLowerCase()] ?? null : null;
}

export const TRAJECTORY_EXTENSIONS = '.extxyz, .xyz (extXYZ) or .dcd (DCD)';

export interface TrajectoryOptions {
  /** Continue an existing file (a resumed run) instead of starting a new one. */
  append: boolean;
  /** Steps between frames and the MD time step, for DCD's frame times. */
  stepInterval: number;
  timeStep_fs: number;
  /** Warnings for the user (stderr). */
  warn(message: string): void;
}

export interface TrajectoryWriter {
  readonly format: TrajectoryFormat;
  /** Appends one frame taken at MD step `step`. */
  write(frame: Structure, step: number): void;
}

/** Opens (creates, or on `append` continues) the trajectory file; throws for an unknown extension. */
export function openTrajectory(path: string, o: TrajectoryOptions): TrajectoryWriter {
  const format = trajectoryFormat(path);
  if (format === 'extxyz') {
    if (!o.append) writeFileSync(path, '');
    return { format, write: (frame) => appendFileSync(path, writeExtXyz(frame)) };
  }
  if (format === 'dcd') return new DcdFileWriter(path, o);
  throw new Error(`${path}: unknown trajectory format; use ${TRAJECTORY_EXTENSIONS}`);
}

/**
 * DCD on disk: the header is written with the first frame (which fixes ISTART and the layout); after each frame
 * the header's counts are rewritten, so the file is complete whenever the run stops.
 */
class DcdFileWriter implements TrajectoryWriter {
  readonly format = 'dcd' as const;
  private layout: DcdLayout | null = null;
  private timing: DcdTiming | null = null;
  private frames = 0;
  private warnedOffGrid = false;

  constructor(private readonly path: string, private readonly o: TrajectoryOptions) {
    if (o.append && existsSync(path) && statSync(path).size > 0) {
      const size = statSync(path).size;
      const fd = openSync(path, 'r');
      const start = new Uint8Array(Math.min(size, 65536));
      try { readSync(fd, start, 0, start.length, 0); } finally { closeSync(fd); }
      const info = readDcdHeader(start, size, path);
      this.layout = { numAtoms: info.numAtoms, hasCell: info.hasCell };
      this.timing = { firstStep: info.firstStep, stepInterval: info.stepInterval, timeStep_fs: info.timeStep_fs };
      this.frames = info.frameCount;
      if (info.stepInterval !== o.stepInterval || Math.abs(info.timeStep_fs - o.timeStep_fs) > 1e-6 * o.timeStep_fs) {
        throw new Error(`${path}: the DCD file has frames every ${info.stepInterval} steps of ${info.timeStep_fs.toPrecision(6)} fs, ` +
          `this run every ${o.stepInterval} of ${o.timeStep_fs} fs; DCD keeps one interval, so write to a new --traj file`);
      }
    } else {
      writeFileSync(path, '');
    }
  }

  write(frame: Structure, step: number): void {
    const positions = frame.positions;
    const cell = frame.pbc.some(Boolean) ? frame.cell : null;
    if (!this.layout || !this.timing) {
      this.layout = { numAtoms: positions.length / 3, hasCell: cell !== null };
      this.timing = { firstStep: step, stepInterval: this.o.stepInterval, timeStep_fs: this.o.timeStep_fs };
      writeFileSync(this.path, dcdHeader({ ...this.layout, ...this.timing, frameCount: 0, title: 'npm run md (scaip-web)' }));
    }
    const expected = this.timing.firstStep + this.frames * this.timing.stepInterval;
    if (step !== expected && !this.warnedOffGrid) {
      this.warnedOffGrid = true;
      this.o.warn(`warning: ${this.path}: the frame of step ${step} is written as step ${expected}: DCD stores frames at one ` +
        `fixed interval (${this.timing.stepInterval} steps); positions are exact, readers' frame times are not`);
    }
    const bytes = dcdFrame(this.layout, { positions, cell }, `the frame of step ${step}`);
    appendFileSync(this.path, bytes);
    this.frames++;
    const fd = openSync(this.path, 'r+');
    try { writeSync(fd, dcdCounts(this.frames, this.timing), 0, 16, DCD_COUNTS_OFFSET); } finally { closeSync(fd); }
  }
}
