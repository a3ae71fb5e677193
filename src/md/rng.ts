// Philox4x32-10 counter-based random numbers (Salmon et al., SC'11), identical to shaders/md/common.wgsl.
// A draw is a pure function of (key = seed, counter = [index, step, stream, extra]), so the GPU and the
// float64 CPU engine see the same uniforms, and a checkpoint only needs the step number to resume the stream.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of a 32×32-bit product, exact in float64 arithmetic (same split as the WGSL). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** Streams keep different uses of the generator independent. */
export const STREAM = { langevin: 1, bussi: 2, barostat: 3, velocities: 4 } as const;

export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
  return out;
}

/** Uniform in the open interval (0, 1): 24 random bits, exactly representable in f32 as on the GPU. */
export function toUniform(u: number): number {
  return (u >>> 8) * 5.9604644775390625e-8 + 2.98023223876953125e-8;
}

/** Split a seed into the two 32-bit key words. */
export function seedKey(seed: number): [number, number] {
  const s = Math.floor(Math.abs(seed));
  return [s >>> 0, Math.floor(s / 4294967296) >>> 0];
}

/** Four standard normal deviates from one Philox call (Box–Muller on both pairs). */
export function gaussian4(key: [number, number], c0: number, c1: number, c2: number, c3 = 0,
  out: Float64Array = new Float64Array(4)): Float64Array {
  const u = philox4x32(c0, c1, c2, c3, key[0], key[1]);
  const r0 = Math.sqrt(-2 * Math.log(toUniform(u[0]))), t0 = 2 * Math.PI * toUniform(u[1]);
  const r1 = Math.sqrt(-2 * Math.log(toUniform(u[2]))), t1 = 2 * Math.PI * toUniform(u[3]);
  out[0] = r0 * Math.cos(t0); out[1] = r0 * Math.sin(t0);
  out[2] = r1 * Math.cos(t1); out[3] = r1 * Math.sin(t1);
  return out;
}

/**
 * Gamma(shape, 1) deviate by Marsaglia & Tsang (2000), drawing from the counter stream (c1, c2) with
 * c0 = attempt number, so it is reproducible. Shapes < 1 use the boost x·U^(1/shape).
 */
export function gammaDeviate(shape: number, key: [number, number], c1: number, c2: number): number {
  const boost = shape < 1;
  const a = boost ? shape + 1 : shape;
  const d = a - 1 / 3, c = 1 / Math.sqrt(9 * d);
  const g = new Float64Array(4);
  for (let attempt = 0; attempt < 64; attempt++) {
    gaussian4(key, attempt, c1, c2, 1, g);
    const u = toUniform(philox4x32(attempt, c1, c2, 2, key[0], key[1])[0]);
    const x = g[0];
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
      let r = d * v;
      if (boost) r *= Math.pow(toUniform(philox4x32(attempt, c1, c2, 3, key[0], key[1])[0]), 1 / shape);
      return r;
    }
  }
  return shape; // 64 rejections in a row has probability < 1e-60; fall back to the mean.
}
