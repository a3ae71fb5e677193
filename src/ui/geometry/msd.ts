// Mean squared displacement over a trajectory whose positions a program wrapped into the cell: each frame's step is
// taken as the minimum-image displacement from the previous frame in the current frame's cell, and added up
// (unwrapped positions), so atoms that cross a periodic boundary keep their path. Exact while no atom moves more
// than half a cell width between frames; with a cell that changes between frames (NPT) the step uses the new cell,
// the usual choice for wrapped NPT output.

import type { Pbc } from '../../io/structure';
import { cellFrame, unwrapStep } from '../../geometry/cell';

export class MsdUnwrapper {
  private origin: Float64Array | null = null;
  private previous: Float64Array | null = null;
  /** Unwrapped positions of the last frame pushed (Å, N×3). */
  unwrapped: Float64Array | null = null;

  constructor(private readonly pbc: Pbc) {}

  /** Adds the next frame; returns its MSD against the first frame (Å², averaged over atoms). */
  push(positions: ArrayLike<number>, cell: ArrayLike<number> | null): number {
    if (!this.origin || !this.previous || !this.unwrapped) {
      this.origin = Float64Array.from(positions);
      this.previous = Float64Array.from(positions);
      this.unwrapped = Float64Array.from(positions);
      return 0;
    }
    if (positions.length !== this.origin.length) throw new Error(`MSD: a frame has ${positions.length / 3} atoms, the first ${this.origin.length / 3}`);
    this.unwrapped = unwrapStep(this.unwrapped, positions, this.previous, cellFrame(cell, this.pbc));
    this.previous = Float64Array.from(positions);
    let sum = 0;
    for (let k = 0; k < this.unwrapped.length; k++) sum += (this.unwrapped[k] - this.origin[k]) ** 2;
    return sum / (this.unwrapped.length / 3);
  }
}

/** MSD (Å²) of each frame against the first, from wrapped positions and per-frame cells. */
export function msdSeries(frames: { positions: ArrayLike<number>; cell: ArrayLike<number> | null }[], pbc: Pbc): number[] {
  const u = new MsdUnwrapper(pbc);
  return frames.map((f) => u.push(f.positions, f.cell));
}
