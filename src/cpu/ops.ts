// Float64 dense ops of the reference runtime, each with the backward pass the forces need.
// Layouts are row-major; PyTorch Linear weights are [out, in] (y = x·Wᵀ + b).

/** y[rows×out] = x[rows×in] · Wᵀ + b. */
export function linear(
  x: Float64Array, rows: number, inDim: number,
  W: Float64Array, b: Float64Array | null, outDim: number,
): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    const yo = r * outDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[xo + i] * W[wo + i];
      y[yo + o] = s;
    }
  }
  return y;
}

/** dx[rows×in] = dy[rows×out] · W. (Weight gradients are not needed for forces.) */
export function linearBackward(
  dy: Float64Array, rows: number, inDim: number, W: Float64Array, outDim: number,
): Float64Array {
  const dx = new Float64Array(rows * inDim);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    const yo = r * outDim;
    for (let o = 0; o < outDim; o++) {
      const g = dy[yo + o];
      if (g === 0) continue;
      const wo = o * inDim;
      for (let i = 0; i < inDim; i++) dx[xo + i] += g * W[wo + i];
    }
  }
  return dx;
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erf to float64 accuracy (JavaScript has none). |x| < 3: the all-positive series
 * erf(x) = 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (no cancellation); 3 ≤ |x| < 6.5: the
 * continued fraction of erfc; beyond, erf = ±1 in float64.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 0; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 3);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / SQRT_PI) * Math.exp(-x2) * sum;
  }
  if (ax >= 6.5) return Math.sign(x);
  // erfc(a) = e^{-a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated bottom-up.
  let f = ax;
  for (let n = 120; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / SQRT_PI / f;
  return Math.sign(x) * (1 - erfc);
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU: 0.5·x·(1 + erf(x/√2)) (PyTorch nn.GELU() default). */
export function gelu(x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i] * (1 + erf(x[i] * INV_SQRT2));
  return y;
}

/** d GELU/dx = Φ(x) + x·φ(x). */
export function geluBackward(x: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const cdf = 0.5 * (1 + erf(v * INV_SQRT2));
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
  return dx;
}

export interface RmsNormCache {
  xhat: Float64Array;
  invRms: Float64Array;
}

/** y = x / sqrt(mean(x²) + eps) · w, per row. */
export function rmsNorm(
  x: Float64Array, rows: number, dim: number, w: Float64Array, eps: number,
): { y: Float64Array; cache: RmsNormCache } {
  const y = new Float64Array(rows * dim);
  const xhat = new Float64Array(rows * dim);
  const invRms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ms = 0;
    for (let i = 0; i < dim; i++) ms += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(ms / dim + eps);
    invRms[r] = inv;
    for (let i = 0; i < dim; i++) {
      xhat[o + i] = x[o + i] * inv;
      y[o + i] = xhat[o + i] * w[i];
    }
  }
  return { y, cache: { xhat, invRms } };
}

export function rmsNormBackward(
  dy: Float64Array, rows: number, dim: number, w: Float64Array, cache: RmsNormCache,
): Float64Array {
  const dx = new Float64Array(rows * dim);
  const { xhat, invRms } = cache;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += dy[o + i] * w[i] * xhat[o + i];
    dot /= dim;
    const inv = invRms[r];
    for (let i = 0; i < dim; i++) dx[o + i] = inv * (dy[o + i] * w[i] - xhat[o + i] * dot);
  }
  return dx;
}

/** GELU(x·Wᵀ + b) with the pre-activation kept for the backward pass. */
export function linearGelu(
  x: Float64Array, rows: number, inDim: number,
  W: Float64Array, b: Float64Array | null, outDim: number,
): { y: Float64Array; pre: Float64Array } {
  const pre = linear(x, rows, inDim, W, b, outDim);
  return { y: gelu(pre), pre };
}

export function linearGeluBackward(
  dy: Float64Array, pre: Float64Array, rows: number, inDim: number, W: Float64Array, outDim: number,
): Float64Array {
  return linearBackward(geluBackward(pre, dy), rows, inDim, W, outDim);
}
