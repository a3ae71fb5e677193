// All-to-all node attention over the atoms of each system, flash-attention style: a workgroup
// owns 64 query atoms of one head and streams the keys of their systems through workgroup
// memory in tiles of 16, with an online softmax, so no N×N array exists anywhere. Keys from
// another system are masked. With EROPE the logit gains log(softplus(Σ_f W_hf sinc(ω_f r_ij)) + 1e-6),
// r_ij the minimum-image distance, computed on the fly. The forward saves each query's
// logsumexp; the backward recomputes probabilities from it in two atomic-free passes:
// query-major (dq, D = dO·o, ∂E/∂pos_i and the strain term of the ERoPE distances) and
// key-major (dk, dv, ∂E/∂pos_j).

override EROPE: bool = false;

const MAX_D: u32 = 64u;
const WG: u32 = 64u;
const TILE: u32 = 16u;

struct Params {
  atoms: u32,
  systems: u32,
  heads: u32,
  head_dim: u32,
  scale: f32,
  num_freq: u32,
  images_offset: u32,   // geom: images (float triples) start here
  omega_offset: u32,    // geom: ω (num_freq)
  weight_offset: u32,   // geom: W (heads × num_freq)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;             // atoms × [q|k|v] (3H)
@group(0) @binding(2) var<storage, read> systems: array<u32>;         // [atom_system (N) | sys_start (B+1) | image_start (B+1)]
@group(0) @binding(3) var<storage, read> geom: array<f32>;            // [positions (N×3) | images | ω | W]
@group(0) @binding(4) var<storage, read_write> o: array<f32>;         // atoms × H
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;     // [lse (N×heads) | D (N×heads)]
@group(0) @binding(6) var<storage, read> d_o: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad: array<f32>;      // A: dq (N×H); B: [dk|dv] (N×2H)
@group(0) @binding(8) var<storage, read_write> geom_grad: array<f32>; // (N×heads) × 12: ∂E/∂pos (3), strain (9)
@group(0) @binding(9) var<storage, read_write> geom_out: array<f32>;  // N × 12, summed over heads

var<workgroup> tile_a: array<array<f32, MAX_D>, TILE>;   // forward/A: k; B: q
var<workgroup> tile_b: array<array<f32, MAX_D>, TILE>;   // forward/A: v; B: dO
var<workgroup> tile_pos: array<vec3f, TILE>;
var<workgroup> tile_stat: array<vec2f, TILE>;            // B: (lse, D) of the tile's queries
var<workgroup> tile_sys: array<u32, TILE>;

fn atom_system(i: u32) -> u32 { return systems[i]; }
fn sys_start(b: u32) -> u32 { return systems[params.atoms + b]; }
fn image_start(b: u32) -> u32 { return systems[params.atoms + params.systems + 1u + b]; }
fn position(i: u32) -> vec3f { return vec3f(geom[3u * i], geom[3u * i + 1u], geom[3u * i + 2u]); }

fn hd() -> u32 { return params.heads * params.head_dim; }
fn q_at(i: u32, h: u32, c: u32) -> f32 { return qkv[i * 3u * hd() + h * params.head_dim + c]; }
fn k_at(i: u32, h: u32, c: u32) -> f32 { return qkv[i * 3u * hd() + hd() + h * params.head_dim + c]; }
fn v_at(i: u32, h: u32, c: u32) -> f32 { return qkv[i * 3u * hd() + 2u * hd() + h * params.head_dim + c]; }

/** Minimum-image displacement pos_j + T − pos_i over the system's images (xyz) and its length (w). */
fn min_image(pi: vec3f, pj: vec3f, b: u32) -> vec4f {
  var best = vec4f(0.0, 0.0, 0.0, 3.4e38);
  for (var m = image_start(b); m < image_start(b + 1u); m++) {
    let t = params.images_offset + 3u * m;
    let dsp = pj - pi + vec3f(geom[t], geom[t + 1u], geom[t + 2u]);
    let r2 = dot(dsp, dsp);
    if (r2 < best.w) { best = vec4f(dsp, r2); }
  }
  return vec4f(best.xyz, select(sqrt(best.w), 0.0, best.w <= 1e-12));
}

/**
 * (sin x, cos x) to float32 accuracy: WGSL only promises 2^-11 absolute for sin/cos, too coarse
 * for the ERoPE kernel sums. Cody–Waite reduction by π/2 (three-part constant), then Taylor
 * polynomials on |r| ≤ π/4 (truncation < 1e-11).
 */
fn sin_cos(x: f32) -> vec2f {
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0 - r2 / 39916800.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0 + r2 / 479001600.0)))));
  let quadrant = i32(k) & 3;
  if (quadrant == 0) { return vec2f(s, c); }
  if (quadrant == 1) { return vec2f(c, -s); }
  if (quadrant == 2) { return vec2f(-s, -c); }
  return vec2f(-c, s);
}

fn sinc(x: f32) -> f32 {
  if (abs(x) < 1e-4) { let x2 = x * x; return 1.0 - x2 / 6.0 + x2 * x2 / 120.0; }
  return sin_cos(x).x / x;
}

/** d sinc/dx; a Taylor series below 0.5, where x·cos x − sin x cancels in float32. */
fn sinc_grad(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let x2 = x * x;
    return x * (-1.0 / 3.0 + x2 * (1.0 / 30.0 + x2 * (-1.0 / 840.0 + x2 * (1.0 / 45360.0 - x2 / 3991680.0))));
  }
  let sc = sin_cos(x);
  return (x * sc.y - sc.x) / (x * x);
}

/** log1p without cancellation for tiny arguments (Kahan's trick). */
fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}

fn softplus(z: f32) -> f32 { if (z > 20.0) { return z; } return log1p_(exp(z)); }
fn softplus_grad(z: f32) -> f32 { if (z > 20.0) { return 1.0; } return 1.0 / (1.0 + exp(-z)); }

/** z_h(r) = Σ_f W_hf sinc(ω_f r) (x) and dz/dr (y). */
fn radial(h: u32, r: f32) -> vec2f {
  var z = 0.0; var dz = 0.0;
  for (var f = 0u; f < params.num_freq; f++) {
    let w = geom[params.weight_offset + h * params.num_freq + f];
    let om = geom[params.omega_offset + f];
    z = fma(w, sinc(om * r), z);
    dz = fma(w * om, sinc_grad(om * r), dz);
  }
  return vec2f(z, dz);
}

fn erope_bias(z: f32) -> f32 { return log(softplus(z) + 1e-6); }
fn erope_bias_grad(z: f32) -> f32 { return softplus_grad(z) / (softplus(z) + 1e-6); }

struct Rows { first: u32, count: u32, h: u32, key_begin: u32, key_end: u32, valid: bool }

/** The 64 rows (queries or keys) of this workgroup, its head, and the atom range of their systems. */
fn workgroup_rows(wid: vec3u, nwg: vec3u, lid: u32) -> Rows {
  var r: Rows;
  let w = wid.x + wid.y * nwg.x;
  let tiles = (params.atoms + WG - 1u) / WG;
  r.valid = w < tiles * params.heads;
  if (!r.valid) { return r; }
  r.h = w % params.heads;
  r.first = (w / params.heads) * WG;
  r.count = min(WG, params.atoms - r.first);
  r.key_begin = sys_start(atom_system(r.first));
  r.key_end = sys_start(atom_system(r.first + r.count - 1u) + 1u);
  return r;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let R = workgroup_rows(wid, nwg, lid);
  if (!R.valid) { return; }            // uniform across the workgroup
  let h = R.h; let D = params.head_dim;
  let i = R.first + lid;
  let in_range = lid < R.count;
  let ii = min(i, params.atoms - 1u);  // inactive lanes still join the barriers
  let bi = atom_system(ii);
  let pi = position(ii);
  var q: array<f32, MAX_D>;
  for (var c = 0u; c < D; c++) { q[c] = q_at(ii, h, c); }
  var m = -3.4e38; var l = 0.0;
  var acc: array<f32, MAX_D>;
  for (var j0 = R.key_begin; j0 < R.key_end; j0 += TILE) {
    for (var e = lid; e < TILE * D; e += WG) {
      let jj = e / D; let c = e % D; let j = min(j0 + jj, params.atoms - 1u);
      tile_a[jj][c] = k_at(j, h, c);
      tile_b[jj][c] = v_at(j, h, c);
    }
    if (lid < TILE) { let j = min(j0 + lid, params.atoms - 1u); tile_pos[lid] = position(j); tile_sys[lid] = atom_system(j); }
    workgroupBarrier();
    for (var jj = 0u; jj < TILE; jj++) {
      if (j0 + jj >= R.key_end || tile_sys[jj] != bi) { continue; }
      var s = 0.0;
      for (var c = 0u; c < D; c++) { s = fma(q[c], tile_a[jj][c], s); }
      s *= params.scale;
      if (EROPE) { s += erope_bias(radial(h, min_image(pi, tile_pos[jj], bi).w).x); }
      let m_new = max(m, s);
      let corr = exp(m - m_new);
      let w = exp(s - m_new);
      l = l * corr + w;
      for (var c = 0u; c < D; c++) { acc[c] = fma(acc[c], corr, w * tile_b[jj][c]); }
      m = m_new;
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var c = 0u; c < D; c++) { o[i * hd() + h * D + c] = acc[c] / l; }
    stats[i * params.heads + h] = m + log(l);
  }
}

@compute @workgroup_size(WG)
fn backward_query(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let R = workgroup_rows(wid, nwg, lid);
  if (!R.valid) { return; }
  let h = R.h; let D = params.head_dim;
  let i = R.first + lid;
  let in_range = lid < R.count;
  let ii = min(i, params.atoms - 1u);
  let bi = atom_system(ii);
  let pi = position(ii);
  var q: array<f32, MAX_D>;
  var g: array<f32, MAX_D>;      // dO_i
  var dq: array<f32, MAX_D>;
  var Di = 0.0;
  for (var c = 0u; c < D; c++) {
    q[c] = q_at(ii, h, c);
    g[c] = d_o[ii * hd() + h * D + c];
    Di = fma(g[c], o[ii * hd() + h * D + c], Di);
  }
  let lse = stats[ii * params.heads + h];
  var gpos = vec3f(0.0);
  var strain: array<f32, 9>;
  for (var j0 = R.key_begin; j0 < R.key_end; j0 += TILE) {
    for (var e = lid; e < TILE * D; e += WG) {
      let jj = e / D; let c = e % D; let j = min(j0 + jj, params.atoms - 1u);
      tile_a[jj][c] = k_at(j, h, c);
      tile_b[jj][c] = v_at(j, h, c);
    }
    if (lid < TILE) { let j = min(j0 + lid, params.atoms - 1u); tile_pos[lid] = position(j); tile_sys[lid] = atom_system(j); }
    workgroupBarrier();
    for (var jj = 0u; jj < TILE; jj++) {
      if (j0 + jj >= R.key_end || tile_sys[jj] != bi) { continue; }
      var s = 0.0; var dP = 0.0;
      for (var c = 0u; c < D; c++) { s = fma(q[c], tile_a[jj][c], s); dP = fma(g[c], tile_b[jj][c], dP); }
      s *= params.scale;
      var geo = vec4f(0.0); var rz = vec2f(0.0);
      if (EROPE) { geo = min_image(pi, tile_pos[jj], bi); rz = radial(h, geo.w); s += erope_bias(rz.x); }
      let ds = exp(s - lse) * (dP - Di);
      for (var c = 0u; c < D; c++) { dq[c] = fma(ds * params.scale, tile_a[jj][c], dq[c]); }
      if (EROPE && geo.w > 0.0) {
        // disp = pos_j + T − pos_i carries ∂E/∂disp = dr·disp/r: −g on atom i, disp ⊗ g into the strain.
        let gv = (ds * erope_bias_grad(rz.x) * rz.y / geo.w) * geo.xyz;
        gpos -= gv;
        for (var p = 0u; p < 3u; p++) { for (var qd = 0u; qd < 3u; qd++) { strain[3u * p + qd] = fma(geo[p], gv[qd], strain[3u * p + qd]); } }
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var c = 0u; c < D; c++) { grad[i * hd() + h * D + c] = dq[c]; }
    stats[(params.atoms + i) * params.heads + h] = Di;
    let go = (i * params.heads + h) * 12u;
    geom_grad[go] = gpos.x; geom_grad[go + 1u] = gpos.y; geom_grad[go + 2u] = gpos.z;
    for (var t = 0u; t < 9u; t++) { geom_grad[go + 3u + t] = strain[t]; }
  }
}

@compute @workgroup_size(WG)
fn backward_key(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let R = workgroup_rows(wid, nwg, lid);
  if (!R.valid) { return; }
  let h = R.h; let D = params.head_dim;
  let j = R.first + lid;
  let in_range = lid < R.count;
  let jj_ = min(j, params.atoms - 1u);
  let bj = atom_system(jj_);
  let pj = position(jj_);
  var kv: array<f32, MAX_D>;
  var vv: array<f32, MAX_D>;
  var dk: array<f32, MAX_D>;
  var dv: array<f32, MAX_D>;
  for (var c = 0u; c < D; c++) { kv[c] = k_at(jj_, h, c); vv[c] = v_at(jj_, h, c); }
  var gpos = vec3f(0.0);
  for (var i0 = R.key_begin; i0 < R.key_end; i0 += TILE) {
    for (var e = lid; e < TILE * D; e += WG) {
      let ii = e / D; let c = e % D; let i = min(i0 + ii, params.atoms - 1u);
      tile_a[ii][c] = q_at(i, h, c);
      tile_b[ii][c] = d_o[i * hd() + h * D + c];
    }
    if (lid < TILE) {
      let i = min(i0 + lid, params.atoms - 1u);
      tile_pos[lid] = position(i); tile_sys[lid] = atom_system(i);
      tile_stat[lid] = vec2f(stats[i * params.heads + h], stats[(params.atoms + i) * params.heads + h]);
    }
    workgroupBarrier();
    for (var ii = 0u; ii < TILE; ii++) {
      if (i0 + ii >= R.key_end || tile_sys[ii] != bj) { continue; }
      var s = 0.0; var dP = 0.0;
      for (var c = 0u; c < D; c++) { s = fma(tile_a[ii][c], kv[c], s); dP = fma(tile_b[ii][c], vv[c], dP); }
      s *= params.scale;
      var geo = vec4f(0.0); var rz = vec2f(0.0);
      // the same displacement as the query pass: from atom i to atom j
      if (EROPE) { geo = min_image(tile_pos[ii], pj, bj); rz = radial(h, geo.w); s += erope_bias(rz.x); }
      let P = exp(s - tile_stat[ii].x);
      let ds = P * (dP - tile_stat[ii].y);
      for (var c = 0u; c < D; c++) {
        dk[c] = fma(ds * params.scale, tile_a[ii][c], dk[c]);
        dv[c] = fma(P, tile_b[ii][c], dv[c]);
      }
      if (EROPE && geo.w > 0.0) { gpos += (ds * erope_bias_grad(rz.x) * rz.y / geo.w) * geo.xyz; }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var c = 0u; c < D; c++) {
      grad[j * 2u * hd() + h * D + c] = dk[c];
      grad[j * 2u * hd() + hd() + h * D + c] = dv[c];
    }
    if (EROPE) {
      let go = (j * params.heads + h) * 12u;   // written by the query pass for this (atom, head)
      geom_grad[go] += gpos.x; geom_grad[go + 1u] += gpos.y; geom_grad[go + 2u] += gpos.z;
    }
  }
}

// Per atom: sum the per-head ERoPE position gradients and strain terms.
@compute @workgroup_size(WG)
fn reduce_geometry(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= params.atoms * 12u) { return; }
  let i = t / 12u; let c = t % 12u;
  var s = 0.0;
  for (var h = 0u; h < params.heads; h++) { s += geom_grad[(i * params.heads + h) * 12u + c]; }
  geom_out[t] = s;
}
