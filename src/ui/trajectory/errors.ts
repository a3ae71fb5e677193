// Trajectory files whose frames are not one system: a StructureParseError (file, line of the frame, problem), so
// the workbench shows it like any file problem.

import { StructureParseError } from '../../io/errors';
import type { Structure } from '../../io/structure';

export class TrajectoryAtomsChangedError extends StructureParseError {
  /** `first`: frame 1, which can still be opened on its own. */
  constructor(fileName: string, line: number, readonly frame: number, problem: string, readonly first: Structure) {
    super(fileName, line, problem);
    this.name = 'TrajectoryAtomsChangedError';
  }
}
