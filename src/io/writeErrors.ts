// Errors for structures and trajectories a writer cannot represent in the chosen file format (coordinates
// beyond a fixed-width column, a cell the format cannot describe, frames that disagree on the atom count).

export class StructureWriteError extends Error {
  /** The format being written, e.g. "DCD" or "PDB". */
  readonly format: string;
  /** The problem alone, without the format. */
  readonly problem: string;

  constructor(format: string, problem: string) {
    super(`cannot write ${format}: ${problem}`);
    this.name = 'StructureWriteError';
    this.format = format;
    this.problem = problem;
  }
}
