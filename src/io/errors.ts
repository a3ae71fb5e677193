// Errors for malformed structure files. The message always names the file and, for text formats,
// the 1-based line, so the user can open the file and fix it.

export class StructureParseError extends Error {
  readonly fileName: string;
  /** 1-based line number, or null when the problem is not tied to one line (e.g. an empty file). */
  readonly line: number | null;
  /** The problem alone, without file and line. */
  readonly problem: string;

  constructor(fileName: string, line: number | null, problem: string) {
    super(line === null ? `${fileName}: ${problem}` : `${fileName} line ${line}: ${problem}`);
    this.name = 'StructureParseError';
    this.fileName = fileName;
    this.line = line;
    this.problem = problem;
  }
}
