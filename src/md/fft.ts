// In-place radix-2 complex FFT (Cooley–Tukey, iterative): the spectra here (VDOS) are a few thousand points,
// where this is fast enough and a dependency is not worth it.

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Forward transform X_k = Σ_t x_t·exp(−2πi·k·t/n) of (re, im) in place; `inverse` uses exp(+2πi·k·t/n) and does
 * NOT divide by n. The length must be a power of two.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (!isPowerOfTwo(n) || im.length !== n) throw new RangeError(`fft: length ${n} (imaginary ${im.length}) is not one power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len *= 2) {
    const ang = (sign * 2 * Math.PI) / len;
    const half = len / 2;
    for (let k = 0; k < half; k++) {
      // twiddle from cos/sin per k (not a running product): keeps the error at round-off for long transforms
      const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
      for (let s = k; s < n; s += len) {
        const t = s + half;
        const xr = re[t] * wr - im[t] * wi;
        const xi = re[t] * wi + im[t] * wr;
        re[t] = re[s] - xr; im[t] = im[s] - xi;
        re[s] += xr; im[s] += xi;
      }
    }
  }
}
