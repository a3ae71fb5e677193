// Shared declarations of the MD kernels: run parameters, engine control block, Philox4x32-10 random numbers.
// Prepended to every shaders/md/*.wgsl kernel file except lj.wgsl and pull.wgsl by src/md/gpuEngine.ts, which
// reads the struct layouts from here (webgpu-utils reflection).

struct Params {
  n: u32, n_mol: u32, nhc_len: u32, seed_lo: u32,
  seed_hi: u32, _p0: u32, _p1: u32, _p2: u32,
  dt: f32, kT: f32, nf: f32, friction: f32,
  tau_t: f32, pressure: f32, fire_dt_max: f32, fire_max_step: f32,
  max_force: f32, _q0: f32, _q1: f32, _q2: f32,
}

// Engine state that lives on the GPU between steps (checkpointed as raw bytes).
struct Control {
  step: u32, mc_attempts: u32, mc_accepted: u32, mc_win_att: u32,
  mc_win_acc: u32, fire_npos: u32, mc_accept: u32, _u0: u32,
  ke: f32, scale: f32, fire_dt: f32, fire_alpha: f32,
  mc_volume_scale: f32, mc_old_epot: f32, mc_lambda: f32, mc_old_volume: f32,
  fire_p: f32, fire_keep: f32, fire_mix: f32, _f0: f32,
  mc_old_box: array<f32, 12>,
  mc_old_out: array<f32, 12>,
  xi: array<f32, 8>,
  vxi: array<f32, 8>,
}

const STREAM_LANGEVIN: u32 = 1u;
const STREAM_BUSSI: u32 = 2u;
const STREAM_BAROSTAT: u32 = 3u;
const PI: f32 = 3.14159265358979;

// High 32 bits of a 32×32 product from 16-bit halves (WGSL has no 64-bit integers).
fn mulhi32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl; let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox(c_in: vec4<u32>, k_in: vec2<u32>) -> vec4<u32> {
  var c = c_in; var k = k_in;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi32(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

fn to_uniform(u: u32) -> f32 {
  return f32(u >> 8u) * 5.9604644775390625e-8 + 2.98023223876953125e-8;
}

fn gaussian4(c: vec4<u32>, k: vec2<u32>) -> vec4<f32> {
  let u = philox(c, k);
  let r0 = sqrt(-2.0 * log(to_uniform(u.x))); let t0 = 2.0 * PI * to_uniform(u.y);
  let r1 = sqrt(-2.0 * log(to_uniform(u.z))); let t1 = 2.0 * PI * to_uniform(u.w);
  return vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));
}

// Gamma(shape, 1) by Marsaglia & Tsang, counters as in src/md/rng.ts gammaDeviate.
fn gamma_deviate(shape: f32, k: vec2<u32>, c1: u32, c2: u32) -> f32 {
  let boost = shape < 1.0;
  var a = shape; if (boost) { a = shape + 1.0; }
  let d = a - 1.0 / 3.0; let cc = 1.0 / sqrt(9.0 * d);
  for (var attempt = 0u; attempt < 64u; attempt++) {
    let x = gaussian4(vec4<u32>(attempt, c1, c2, 1u), k).x;
    let u = to_uniform(philox(vec4<u32>(attempt, c1, c2, 2u), k).x);
    var v = 1.0 + cc * x;
    if (v <= 0.0) { continue; }
    v = v * v * v;
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) {
      var r = d * v;
      if (boost) { r = r * pow(to_uniform(philox(vec4<u32>(attempt, c1, c2, 3u), k).x), 1.0 / shape); }
      return r;
    }
  }
  return shape;
}

fn seed_key(p: Params) -> vec2<u32> { return vec2<u32>(p.seed_lo, p.seed_hi); }
