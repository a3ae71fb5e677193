// Default time step shown in the controls, by the lightest element present.
// TODO(md): replace with the MD engine's own default once src/md exports it, so both agree.
import { ATOMIC_MASSES } from '../../io/elements';

export function defaultTimestep(numbers: ArrayLike<number>): number {
  let lightest = Infinity;
  for (let i = 0; i < numbers.length; i++) lightest = Math.min(lightest, ATOMIC_MASSES[numbers[i]] ?? 1);
  if (lightest < 2) return 0.5; // H: its ~10 fs O–H stretch period needs ≤ 0.5 fs
  if (lightest < 10) return 1;
  return 2;
}
