// Error measures shared by the parity tests.

/** max_i |got − want| / max_i |want|: the largest deviation relative to the largest reference value. */
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / den;
}
