// All-to-all node attention (spec §1.5 step 5), flash-attention style: each invocation owns one
// query row of one head and streams the keys in tiles held in workgroup memory, with an online
// softmax, so no N×N array is ever stored. Atoms of different systems never attend to each other
// (per-atom system index). With EROPE the logit gets log(softplus(Σ_f W_hf sinc(ω_f r_ij)) + 1e-6),
// r_ij the minimum-image distance over the system's enumerated images, computed on the fly; with
// SMOOTH_PBC (architecture.erope_smooth_minimum_image) the smooth periodic distance r̃ of
// src/cpu/eropeDistance.ts instead, from the system's cell.
//
// Files: common.wgsl (this: bindings and device functions), key_tile.wgsl, forward.wgsl,
// row_stats.wgsl, backward_query.wgsl, backward_key.wgsl, reduce.wgsl; one module per entry point
// (SwiftShader crashes at run time when they share one).
//
// Backward (FlashAttention-2 form): `row_stats` forms D_i = dO_i·O_i; `backward_query` recomputes
// each query's probabilities from the saved log-sum-exp and accumulates dq and the query-side
// ERoPE position gradient + virial; `backward_key` does the same key-major for dk, dv and the
// key-side position gradient. reduce.wgsl sums the per-head partial gradients.
// WGSL has no float atomics: every sum is owned by one invocation.
//
// Buffers: q, k, v, o, dO, dq, dk, dv are N×H (H = heads·D, head h at columns h·D..h·D+D).
// atoms[i] = (x, y, z, system index). aux = per system (first image, image count) pairs, then the
// image translations (x, y, z) from `images_offset`, then (SMOOTH_PBC) 24 numbers per system from
// `metric_offset`: the cell rows a0, a1, a2, the columns of cell⁻¹, the pbc flags (0/1) and |a_i|².
// stats[(h·N + i)·2] = (log-sum-exp, D_i).

override D: u32 = 16u;          // head dimension
override EROPE: bool = false;
override SMOOTH_PBC: bool = false;

const BLOCK: u32 = 32u;         // rows per workgroup (queries; keys in backward_key), one per invocation
const TILE: u32 = 16u;          // rows per streamed tile in workgroup memory
const MAXD: u32 = 64u;          // largest head dimension supported
// Workgroup arrays have constant sizes: SwiftShader crashes at run time on override-sized ones.

struct Params {
  n: u32,
  num_heads: u32,
  hidden: u32,
  num_freq: u32,
  images_offset: u32,
  metric_offset: u32,
  q_tiles: u32,
  scale: f32,
  // ERoPE of this layer: W (num_heads × num_freq, row-major) and ω (Å⁻¹), packed in vec4s.
  radial_weight: array<vec4f, 256>,
  omega: array<vec4f, 16>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> atoms: array<vec4f>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;
// row_stats: O; backward_query and backward_key: dO (unused by forward)
@group(0) @binding(6) var<storage, read> o_in: array<f32>;
// forward: o (N×H); row_stats: dO (read); backward_query: [dq (N×H) | geo (heads×N×12: ∂E/∂pos, virial)];
// backward_key: [dk (N×H) | dv (N×H) | geo (heads×N×3: ∂E/∂pos)]
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;

fn weight(h: u32, f: u32) -> f32 {
  let idx = h * params.num_freq + f;
  return params.radial_weight[idx / 4u][idx % 4u];
}
fn omega(f: u32) -> f32 { return params.omega[f / 4u][f % 4u]; }

/**
 * (sin x, cos x) to ~1e-7 absolute for the arguments ERoPE meets (ω·r up to ~10²): GPU sin/cos are
 * only specified to 2⁻¹¹ absolute, and only on [−π, π]. Quadrant reduction (Cody–Waite, π/2 in three
 * parts) and Taylor polynomials on [−π/4, π/4].
 */
fn sin_cos(x: f32) -> vec2f {
  let k = round(x * 0.63661977236758134);
  var r = x - k * 1.5703125;
  r -= k * 4.8351287841796875e-4;
  r -= k * 3.1385570e-07;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  let q = i32(k) & 3;
  if (q == 0) { return vec2f(s, c); }
  if (q == 1) { return vec2f(c, -s); }
  if (q == 2) { return vec2f(-s, -c); }
  return vec2f(-c, s);
}

fn sinc(x: f32) -> f32 {
  if (abs(x) < 1e-4) { let x2 = x * x; return 1.0 - x2 / 6.0 + x2 * x2 / 120.0; }
  return sin_cos(x).x / x;
}
/** log(1 + x) without the cancellation of log(1 + x) for small x (Goldberg's trick). */
fn log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}
// torch's softplus: linear above 20. Very negative z gives tiny softplus values whose log enters
// the logits, so they need log1p's relative accuracy.
fn softplus(z: f32) -> f32 { if (z > 20.0) { return z; } return log1p(exp(z)); }
fn softplus_grad(z: f32) -> f32 { if (z > 20.0) { return 1.0; } return 1.0 / (1.0 + exp(-z)); }

/** Minimum-image displacement a_j − a_i over the system's images (x, y, z) and its length (w). */
fn pair_disp(ai: vec4f, aj: vec4f) -> vec4f {
  let sys = u32(ai.w);
  let first = u32(aux[2u * sys]);
  let count = u32(aux[2u * sys + 1u]);
  let base = aj.xyz - ai.xyz;
  var best = base;
  var best2 = 3.4e38;
  for (var m = 0u; m < count; m++) {
    let o = params.images_offset + 3u * (first + m);
    let d = base + vec3f(aux[o], aux[o + 1u], aux[o + 2u]);
    let d2 = dot(d, d);
    if (d2 < best2) { best2 = d2; best = d; }
  }
  return vec4f(best, select(sqrt(best2), 0.0, best2 <= 1e-12));
}

/** Per-axis terms of r̃ at fractional displacement s: w, h and their derivatives in s. */
struct SmoothAxes { w: vec3f, h: vec3f, dw: vec3f, dh: vec3f }

fn smooth_axes(s: vec3f, pbc: vec3f) -> SmoothAxes {
  var r = SmoothAxes(s, vec3f(0.0), vec3f(1.0), vec3f(0.0));   // non-periodic axis: w = s, h = 0
  for (var a = 0u; a < 3u; a++) {
    if (pbc[a] == 0.0) { continue; }
    let sc = sin_cos(3.14159265358979 * s[a]);
    let sn2 = sc.x * sc.x;
    let cs2 = sc.y * sc.y;
    let sn5 = sn2 * sn2 * sc.x;
    r.w[a] = sc.x * sc.y * (3.0 + 2.0 * sn2) * 0.10610329539459689;   // 1/(3π)
    r.h[a] = 4.0 * sn5 * sc.x * (2.0 + sn2) * 0.011257909293593;       // 1/(9π²)
    r.dw[a] = ((cs2 - sn2) * (3.0 + 2.0 * sn2) + 4.0 * sn2 * cs2) / 3.0;
    r.dh[a] = 16.0 * sc.y * sn5 * (3.0 + 2.0 * sn2) * 0.035367765131532;   // 1/(9π)
  }
  return r;
}

/** r̃ of the pair (i, j) and, when wanted, ∂r̃/∂(a_j − a_i) and ∂r̃/∂ε (zero at r̃ = 0). */
struct SmoothPair { r: f32, grad: vec3f, strain: mat3x3f }

fn smooth_pair(ai: vec4f, aj: vec4f, want_grad: bool) -> SmoothPair {
  let o = params.metric_offset + 24u * u32(ai.w);
  let c0 = vec3f(aux[o], aux[o + 1u], aux[o + 2u]);
  let c1 = vec3f(aux[o + 3u], aux[o + 4u], aux[o + 5u]);
  let c2 = vec3f(aux[o + 6u], aux[o + 7u], aux[o + 8u]);
  let i0 = vec3f(aux[o + 9u], aux[o + 10u], aux[o + 11u]);
  let i1 = vec3f(aux[o + 12u], aux[o + 13u], aux[o + 14u]);
  let i2 = vec3f(aux[o + 15u], aux[o + 16u], aux[o + 17u]);
  let pbc = vec3f(aux[o + 18u], aux[o + 19u], aux[o + 20u]);
  let n2 = vec3f(aux[o + 21u], aux[o + 22u], aux[o + 23u]);
  let d = aj.xyz - ai.xyz;
  let t = smooth_axes(vec3f(dot(d, i0), dot(d, i1), dot(d, i2)), pbc);
  let u = t.w.x * c0 + t.w.y * c1 + t.w.z * c2;
  let q = dot(u, u) + dot(t.h, n2);
  var out = SmoothPair(0.0, vec3f(0.0), mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0)));
  if (q <= 1e-12) { return out; }
  out.r = sqrt(q);
  if (want_grad) {
    let dqds = 2.0 * vec3f(dot(u, c0), dot(u, c1), dot(u, c2)) * t.dw + n2 * t.dh;
    // ∂s_a/∂d = column a of cell⁻¹; ∂r̃/∂q = 1/(2 r̃)
    out.grad = (dqds.x * i0 + dqds.y * i1 + dqds.z * i2) / (2.0 * out.r);
    // u and the cell rows turn into u(1+ε), a_i(1+ε); s does not change
    let uu = mat3x3f(u * u.x, u * u.y, u * u.z);
    let cc = t.h.x * mat3x3f(c0 * c0.x, c0 * c0.y, c0 * c0.z) + t.h.y * mat3x3f(c1 * c1.x, c1 * c1.y, c1 * c1.z)
      + t.h.z * mat3x3f(c2 * c2.x, c2 * c2.y, c2 * c2.z);
    out.strain = (uu + cc) * (1.0 / out.r);
  }
  return out;
}

/** ERoPE pair distance: the minimum image, or r̃ with SMOOTH_PBC. */
fn erope_distance(ai: vec4f, aj: vec4f) -> f32 {
  if (SMOOTH_PBC) { return smooth_pair(ai, aj, false).r; }
  return pair_disp(ai, aj).w;
}

/** z = Σ_f W_hf sinc(ω_f r). */
fn erope_z(h: u32, r: f32) -> f32 {
  var z = 0.0;
  for (var f = 0u; f < params.num_freq; f++) { z += weight(h, f) * sinc(omega(f) * r); }
  return z;
}

/** (z, dz/dr) = (Σ_f W_hf sinc(ω_f r), Σ_f W_hf ω_f sinc'(ω_f r)), one sin/cos per frequency. */
fn erope_terms(h: u32, r: f32) -> vec2f {
  var z = 0.0;
  var dz = 0.0;
  for (var f = 0u; f < params.num_freq; f++) {
    let w = weight(h, f);
    let x = omega(f) * r;
    if (abs(x) < 1e-4) {
      let x2 = x * x;
      z += w * (1.0 - x2 / 6.0 + x2 * x2 / 120.0);
      dz += w * omega(f) * (-x / 3.0 + x * x2 / 30.0);
    } else {
      let sc = sin_cos(x);
      z += w * sc.x / x;
      dz += w * omega(f) * (x * sc.y - sc.x) / (x * x);
    }
  }
  return vec2f(z, dz);
}

/** Logit bias log(softplus(z) + 1e-6) and ∂bias/∂r from erope_terms. */
fn erope_bias_grad(t: vec2f) -> vec2f {
  let sp = softplus(t.x) + 1e-6;
  return vec2f(log(sp), softplus_grad(t.x) / sp * t.y);
}

/** ERoPE logit bias log(softplus(z) + 1e-6) of the pair (i, j). */
fn erope_bias(h: u32, ai: vec4f, aj: vec4f) -> f32 {
  return log(softplus(erope_z(h, erope_distance(ai, aj))) + 1e-6);
}

/** One (query i, key j) term of the backward pass, from its recomputed logit. */
struct ScoreGrad {
  p: f32,          // softmax probability p_ij (from the saved log-sum-exp)
  ds: f32,         // ∂E/∂s_ij = p_ij (dO_i·v_j − D_i)
  g: vec3f,        // ∂E/∂(a_j − a_i) through the ERoPE bias (zero without ERoPE or for r = 0)
  disp: vec3f,     // a_j − a_i, minimum image (ERoPE only; for the virial disp ⊗ g)
  strain: mat3x3f, // SMOOTH_PBC: ∂E/∂ε of the pair, used for the virial instead of disp ⊗ g
}

/** qk = q_i·k_j, dov = dO_i·v_j, row = (log-sum-exp_i, D_i) as saved by forward and row_stats. */
fn score_backward(h: u32, ai: vec4f, aj: vec4f, qk: f32, dov: f32, row: vec2f) -> ScoreGrad {
  var s = qk * params.scale;
  var pd = vec4f(0.0);
  var sp = SmoothPair(0.0, vec3f(0.0), mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0)));
  var bias = vec2f(0.0);   // (bias, ∂bias/∂r)
  if (EROPE) {
    if (SMOOTH_PBC) {
      sp = smooth_pair(ai, aj, true);
      bias = erope_bias_grad(erope_terms(h, sp.r));
    } else {
      pd = pair_disp(ai, aj);
      bias = erope_bias_grad(erope_terms(h, pd.w));
    }
    s += bias.x;
  }
  let p = exp(s - row.x);
  let ds = p * (dov - row.y);
  var g = vec3f(0.0);
  var strain = mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0));
  if (EROPE && SMOOTH_PBC) {
    g = ds * bias.y * sp.grad;
    strain = (ds * bias.y) * sp.strain;
  } else if (EROPE && pd.w > 0.0) {
    g = ds * bias.y * pd.xyz / pd.w;
  }
  return ScoreGrad(p, ds, g, pd.xyz, strain);
}

/** (query tile, head) of this workgroup; head ≥ num_heads marks padding of a folded grid. */
fn tile_of(wid: vec3u, nwg: vec3u) -> vec2u {
  let flat = wid.x + wid.y * nwg.x;
  return vec2u(flat % params.q_tiles, flat / params.q_tiles);
}
