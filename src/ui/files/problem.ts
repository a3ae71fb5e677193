// A failure while reading a file, as data the page can show (file, line, problem): the readers' typed errors as
// they are, anything else reported as a reader fault so it can be reported.

import { StructureParseError } from '../../io/errors';
import type { Structure } from '../../io/structure';
import { TrajectoryAtomsChangedError } from '../trajectory/errors';
import type { FileProblem } from './parseStructure';

export function problemOf(e: unknown, fileName: string): { error: FileProblem; first?: Structure } {
  if (e instanceof StructureParseError) {
    const error = { fileName: e.fileName, line: e.line, problem: e.problem };
    return e instanceof TrajectoryAtomsChangedError ? { error, first: e.first } : { error };
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { error: { fileName, line: null, problem: `the reader failed unexpectedly (${what})` } };
}
