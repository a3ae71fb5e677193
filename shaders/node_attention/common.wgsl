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
// Heads in groups of HG (HG·D ≤ 64 columns): a workgroup serves one query (or key) tile for all heads of
// its group, so each pair's ERoPE distance and sinc basis sin(ω_f r)/(ω_f r) are computed once per pair
// for the group and only z_h = Σ_f W_hf·basis_f is per head; the distance derivative is applied once per
// pair to Σ_h ∂E/∂r. With the layer's bias table bound (table_knots > 0) even that is skipped below 64 Å:
// table_bias interpolates bias_h(r) and ∂bias_h/∂r from knots 1/512 Å apart (src/gpu/ops/eropeBiasTable.ts).
// The minimum image rounds in reduced coordinates where that is provably the nearest
// image (|n_a| ≤ 1 and orthogonal cell rows or |d'| < h_min/2; src/geometry/periodicImages.ts) and loops over
// the enumerated images otherwise.
//
// Buffers: q, k, v rows at i·in_stride + {q,k,v}_offset (one fused N×3H q‖k‖v buffer bound three times,
// or three N×H ones), head h at columns h·D..h·D+D; o, dO are N×H. atoms[i] = (x, y, z, system index).
// aux = per system (first image, image count) pairs, then the image translations (x, y, z) from
// `images_offset`, then METRIC numbers per system from `metric_offset`: the cell rows a0, a1, a2, the
// columns of cell⁻¹, the pbc flags (0/1), |a_i|² and the shortcut's accepted |d'|² (Å²).
// stats[(h·N + i)·2] = (log-sum-exp, D_i). grads: dq (backward_query) or dk, dv (backward_key) at
// row·grad_stride + offset, then the per-group ERoPE partials from partials_offset.

override D: u32 = 16u;          // head dimension
override HG: u32 = 1u;          // heads per workgroup (HG·D ≤ MAXD)
override EROPE: bool = false;
override SMOOTH_PBC: bool = false;

const BLOCK: u32 = 32u;         // rows per workgroup (queries; keys in backward_key), one per invocation
const TILE: u32 = 16u;          // rows per streamed tile in workgroup memory
const MAXD: u32 = 64u;          // most columns of a head group (HG·D)
const MAXG: u32 = 8u;           // most heads per group
const METRIC: u32 = 28u;        // aux words per system from metric_offset
// Workgroup arrays have constant sizes: SwiftShader crashes at run time on override-sized ones.

struct Params {
  n: u32,
  num_heads: u32,
  num_freq: u32,
  images_offset: u32,
  metric_offset: u32,
  q_tiles: u32,
  in_stride: u32,
  q_offset: u32,
  k_offset: u32,
  v_offset: u32,
  hidden: u32,            // row stride of o and dO
  grad_stride: u32,
  grad_offset_a: u32,     // dq (backward_query) or dk (backward_key)
  grad_offset_b: u32,     // dv (backward_key)
  partials_offset: u32,
  table_knots: u32,       // knots of the ERoPE bias table (0: no table, the bias is computed per pair)
  table_step: f32,        // Å between knots
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
// ERoPE bias table (src/gpu/ops/eropeBiasTable.ts): per interval k (r from k·table_step) and head h at
// k·num_heads + h: (bias_h at k, its increment to k + 1, ∂bias_h/∂r at k, at k + 1).
@group(0) @binding(10) var<storage, read> bias_table: array<vec4f>;

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

/** A system's cell data from aux (metric_offset), loaded once per invocation. */
struct Metric {
  c0: vec3f, c1: vec3f, c2: vec3f,   // cell rows
  i0: vec3f, i1: vec3f, i2: vec3f,   // columns of cell⁻¹: s_a = d·i_a
  pbc: vec3f,                        // 1 on periodic axes
  n2: vec3f,                         // |a_i|²
  accept: f32,                       // the shortcut answers when |d'|² < accept
  first: u32,                        // first image of the system
  count: u32,                        // image count
}

fn load_metric(sys: u32) -> Metric {
  let o = params.metric_offset + METRIC * sys;
  var m: Metric;
  m.c0 = vec3f(aux[o], aux[o + 1u], aux[o + 2u]);
  m.c1 = vec3f(aux[o + 3u], aux[o + 4u], aux[o + 5u]);
  m.c2 = vec3f(aux[o + 6u], aux[o + 7u], aux[o + 8u]);
  m.i0 = vec3f(aux[o + 9u], aux[o + 10u], aux[o + 11u]);
  m.i1 = vec3f(aux[o + 12u], aux[o + 13u], aux[o + 14u]);
  m.i2 = vec3f(aux[o + 15u], aux[o + 16u], aux[o + 17u]);
  m.pbc = vec3f(aux[o + 18u], aux[o + 19u], aux[o + 20u]);
  m.n2 = vec3f(aux[o + 21u], aux[o + 22u], aux[o + 23u]);
  m.accept = aux[o + 24u];
  m.first = u32(aux[2u * sys]);
  m.count = u32(aux[2u * sys + 1u]);
  return m;
}

/**
 * Minimum-image displacement d = a_j − a_i (x, y, z) and its length (w): rounding in reduced
 * coordinates when that is provably the nearest image, else the loop over the system's images.
 */
fn min_image(m: Metric, d: vec3f) -> vec4f {
  let s = vec3f(dot(d, m.i0), dot(d, m.i1), dot(d, m.i2));
  let n = floor(s + 0.5) * m.pbc;
  let e = d - (n.x * m.c0 + n.y * m.c1 + n.z * m.c2);
  let e2 = dot(e, e);
  if (all(abs(n) <= vec3f(1.0)) && e2 < m.accept) { return vec4f(e, select(sqrt(e2), 0.0, e2 <= 1e-12)); }
  var best = d;
  var best2 = 3.4e38;
  for (var k = 0u; k < m.count; k++) {
    let o = params.images_offset + 3u * (m.first + k);
    let t = d + vec3f(aux[o], aux[o + 1u], aux[o + 2u]);
    let t2 = dot(t, t);
    if (t2 < best2) { best2 = t2; best = t; }
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

/**
 * The ERoPE distance of a pair and, when wanted, ∂r/∂d and ∂r/∂ε (columns; with the minimum image
 * d' ⊗ ∂r/∂d, the smooth r̃ its own since it depends on the cell too). Zero derivatives at r = 0.
 */
struct PairGeometry { r: f32, grad: vec3f, strain: mat3x3f }

fn pair_geometry(m: Metric, ai: vec4f, aj: vec4f, want_grad: bool) -> PairGeometry {
  let d = aj.xyz - ai.xyz;
  var out = PairGeometry(0.0, vec3f(0.0), mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0)));
  if (!SMOOTH_PBC) {
    let e = min_image(m, d);
    out.r = e.w;
    if (want_grad && e.w > 0.0) {
      out.grad = e.xyz / e.w;
      out.strain = mat3x3f(e.x * out.grad, e.y * out.grad, e.z * out.grad);
    }
    return out;
  }
  let t = smooth_axes(vec3f(dot(d, m.i0), dot(d, m.i1), dot(d, m.i2)), m.pbc);
  let u = t.w.x * m.c0 + t.w.y * m.c1 + t.w.z * m.c2;
  let qq = dot(u, u) + dot(t.h, m.n2);
  if (qq <= 1e-12) { return out; }
  out.r = sqrt(qq);
  if (want_grad) {
    let dqds = 2.0 * vec3f(dot(u, m.c0), dot(u, m.c1), dot(u, m.c2)) * t.dw + m.n2 * t.dh;
    // ∂s_a/∂d = column a of cell⁻¹; ∂r̃/∂q = 1/(2 r̃)
    out.grad = (dqds.x * m.i0 + dqds.y * m.i1 + dqds.z * m.i2) / (2.0 * out.r);
    // u and the cell rows turn into u(1+ε), a_i(1+ε); s does not change (symmetric: columns = rows)
    let uu = mat3x3f(u * u.x, u * u.y, u * u.z);
    let cc = t.h.x * mat3x3f(m.c0 * m.c0.x, m.c0 * m.c0.y, m.c0 * m.c0.z) + t.h.y * mat3x3f(m.c1 * m.c1.x, m.c1 * m.c1.y, m.c1 * m.c1.z)
      + t.h.z * mat3x3f(m.c2 * m.c2.x, m.c2 * m.c2.y, m.c2 * m.c2.z);
    out.strain = (uu + cc) * (1.0 / out.r);
  }
  return out;
}

/**
 * ERoPE bias of every head of group `g0` (first head) for distance r: bias[h] = log(softplus(z_h) + 1e-6)
 * with z_h = Σ_f W_hf sinc(ω_f r), and with `want_grad` dbias[h] = ∂bias_h/∂r. The basis is computed
 * once for the group: one sin/cos per frequency, whatever HG is.
 */
struct GroupBias { bias: array<f32, MAXG>, dbias: array<f32, MAXG> }

fn group_bias(g0: u32, r: f32, want_grad: bool) -> GroupBias {
  var z: array<f32, MAXG>;
  var dz: array<f32, MAXG>;
  for (var f = 0u; f < params.num_freq; f++) {
    let w = omega(f);
    let x = w * r;
    var b: f32;
    var db = 0.0;   // ω·sinc'(ωr)
    if (abs(x) < 1e-4) {
      let x2 = x * x;
      b = 1.0 - x2 / 6.0 + x2 * x2 / 120.0;
      db = w * (-x / 3.0 + x * x2 / 30.0);
    } else {
      let sc = sin_cos(x);
      b = sc.x / x;
      if (want_grad) { db = w * (x * sc.y - sc.x) / (x * x); }
    }
    for (var g = 0u; g < HG; g++) {
      let wt = weight(g0 + g, f);
      z[g] += wt * b;
      dz[g] += wt * db;
    }
  }
  var out: GroupBias;
  for (var g = 0u; g < HG; g++) {
    let sp = softplus(z[g]) + 1e-6;
    out.bias[g] = log(sp);
    out.dbias[g] = softplus_grad(z[g]) / sp * dz[g];
  }
  return out;
}

/**
 * group_bias from the table: cubic Hermite between the two knots around r (values and slopes from the float64
 * runtime), and with `want_grad` the interpolant's own derivative, so the backward is the exact gradient of
 * what the forward used. Two knot reads per head instead of num_freq sin/cos per pair. Past the table's
 * last knot, where the interpolant meets the function with value and slope, the bias is computed directly.
 */
fn table_bias(g0: u32, r: f32, want_grad: bool) -> GroupBias {
  let t = r / params.table_step;
  if (params.table_knots == 0u || t >= f32(params.table_knots - 1u)) { return group_bias(g0, r, want_grad); }
  let kn = u32(t);
  let u = t - f32(kn);
  let u2 = u * u;
  let u3 = u2 * u;
  let step = params.table_step;
  // cubic Hermite on [0, 1] written from (f0, f1 − f0, f'0, f'1): its basis and the basis of its r-derivative
  let hb = vec4f(1.0, 3.0 * u2 - 2.0 * u3, (u3 - 2.0 * u2 + u) * step, (u3 - u2) * step);
  let dhb = vec4f(0.0, (6.0 * u - 6.0 * u2) / step, 3.0 * u2 - 4.0 * u + 1.0, 3.0 * u2 - 2.0 * u);
  var out: GroupBias;
  let row = kn * params.num_heads + g0;
  for (var g = 0u; g < HG; g++) {
    let c = bias_table[row + g];
    out.bias[g] = dot(hb, c);
    out.dbias[g] = select(0.0, dot(dhb, c), want_grad);
  }
  return out;
}

/** (query or key tile, head group) of this workgroup; group ≥ num_heads/HG marks padding of a folded grid. */
fn tile_of(wid: vec3u, nwg: vec3u) -> vec2u {
  let flat = wid.x + wid.y * nwg.x;
  return vec2u(flat % params.q_tiles, flat / params.q_tiles);
}

fn q_at(i: u32, col: u32) -> f32 { return q[i * params.in_stride + params.q_offset + col]; }
fn k_at(i: u32, col: u32) -> f32 { return k[i * params.in_stride + params.k_offset + col]; }
fn v_at(i: u32, col: u32) -> f32 { return v[i * params.in_stride + params.v_offset + col]; }
