// The workbench's VDOS: from the stored trajectory (unwrapped positions), over its latest evenly spaced stretch
// (the store thins old frames as a run grows, which changes the spacing), with the engine's masses.

import { atomicMass } from '../../io/elements';
import { C_CM_PER_FS, vdosFromPositions, VdosError, type Vdos } from '../../md/vdos';

export interface TrajectoryFrame { time_fs: number; unwrapped: Float64Array }

/** The longest run of frames at the end of `frames` with one spacing in time (fs), and that spacing. */
export function evenlySpacedTail<F extends { time_fs: number }>(frames: readonly F[]): { frames: F[]; dt_fs: number } {
  const n = frames.length;
  if (n < 2) return { frames: frames.slice(), dt_fs: 0 };
  const dt = frames[n - 1].time_fs - frames[n - 2].time_fs;
  let start = n - 2;
  while (start > 0 && Math.abs(frames[start].time_fs - frames[start - 1].time_fs - dt) <= 1e-6 * Math.abs(dt)) start--;
  return { frames: frames.slice(start), dt_fs: dt };
}

export interface TrajectoryVdos extends Vdos {
  frames: number;
  dt_fs: number;
  /** Highest wavenumber the frame spacing resolves, 1/(2·c·Δt), cm⁻¹. */
  nyquist: number;
}

export function trajectoryVdos(numbers: ArrayLike<number>, frames: readonly TrajectoryFrame[]): TrajectoryVdos {
  const tail = evenlySpacedTail(frames);
  if (tail.frames.length < 9) {
    throw new VdosError(`VDOS: needs at least 9 evenly spaced frames of a run (have ${tail.frames.length}); run longer first`);
  }
  const masses = Float64Array.from(numbers, (z) => atomicMass(z));
  const v = vdosFromPositions(tail.frames.map((f) => f.unwrapped), masses, tail.dt_fs);
  return { ...v, frames: tail.frames.length, dt_fs: tail.dt_fs, nyquist: 1 / (2 * C_CM_PER_FS * tail.dt_fs) };
}
