// Where the real-world structure corpus lives: CI puts a copy of shared/ beside the repository
// (<repo>/../shared); a checkout may also have it inside (<repo>/shared).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

export const REALWORLD_DIR = [join(REPO, '..', 'shared'), join(REPO, 'shared')]
  .map((root) => join(root, 'data', 'realworld-structures'))
  .find((dir) => existsSync(join(dir, 'MANIFEST.tsv')));

/** Absolute path of one corpus file; throws (failing the test) when the corpus is missing. */
export function realworldPath(name: string): string {
  if (REALWORLD_DIR === undefined) {
    throw new Error(`the real-world corpus is missing: expected ${join(REPO, '..', 'shared', 'data', 'realworld-structures')}`);
  }
  return join(REALWORLD_DIR, name);
}
