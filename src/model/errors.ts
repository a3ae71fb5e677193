// Errors for model files that cannot be used. A model load collects every problem it finds
// (config keys, missing tensors, shapes, dtypes, NaNs) and throws them together, so the user fixes
// the file once instead of one error per attempt.

export class ModelLoadError extends Error {
  /** Every problem found, each naming its file and the key or tensor at fault. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} problems with the model:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ModelLoadError';
    this.problems = problems;
  }
}
