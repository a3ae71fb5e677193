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

/** Where a reader is in its file, kept up to date so an unforeseen failure can still name the line. */
export interface ReadPosition {
  line: number | null;
}

/**
 * Runs a reader as its last guard: a cause it did not foresee (a bare RangeError, say) still reaches the user as
 * StructureParseError with the file and the line the reader had reached, its message clipped to 200 characters.
 */
export function guardedRead<T>(fileName: string, read: (at: ReadPosition) => T): T {
  const at: ReadPosition = { line: null };
  try {
    return read(at);
  } catch (e) {
    if (e instanceof StructureParseError) throw e;
    const err = e as Error;
    const message = String(err?.message ?? e);
    const clipped = message.length <= 200 ? message : `${message.slice(0, 200)}… (${message.length} characters)`;
    throw new StructureParseError(fileName, at.line, `cannot read this file (${err?.name ?? 'Error'}: ${clipped})`);
  }
}
