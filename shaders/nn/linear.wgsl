// Linear layer y = x·Wᵀ + b (PyTorch [out,in] weights) with optional fused GELU, and its
// input gradient dx = (dy ⊙ GELU'(pre))·W. Register-blocked tiles: a 16×16 workgroup computes
// a 64×64 output tile, 4×4 outputs per invocation, reduction in chunks of 16 staged in
// workgroup memory. Needs gelu.wgsl prepended, and one of the operand files that say where the
// forward input comes from and where the input gradient goes (load_x, store_dx):
//   linear_dense.wgsl       x and dx are dense [M, in] buffers; optionally y = res + alpha·y (a residual
//                           block's output in the same pass) and dx scaled by alpha; optionally NORM
//   linear_edge_input.wgsl  x = [RBF(d), SH] of each graph slot, made on the fly (never stored);
//                           dx reduced to ∂E/∂d per slot and added into ∂E/∂SH
//   linear_parts.wgsl       y (forward) and dy (backward) as column parts in bindings of their own
//                           (q, k and v of an attention), so no binding holds more than one part
//   linear_self.wgsl        forward only: dense y over graph slots, each atom's slot 0 also into node_out
// (linear_dense.wgsl and linear_parts.wgsl are followed by linear_dx.wgsl: their NORM bindings and dense dx store)

override GELU: bool = false;     // forward: apply GELU (and store pre-activation); backward: multiply dy by GELU'(pre)
override STORE_PRE: bool = true; // forward GELU: false where the backward makes the pre-activation again
override HAS_BIAS: bool = true;
// forward: y = act(RMSNorm(x)·Wᵀ + b) with the norm's weight folded into W (W[n,k]·w[k], at upload): the
// tile loop already stages every x of its rows, so Σx² comes with it and the row's 1/rms scales the
// product at the end; 1/rms is stored (store_inv_rms) for the backward. Saves the norm's dispatch and its
// rows × in output. Dense operands only.
// backward: with NORM the input gradient goes on through that unit-weight RMSNorm (its weight is in W):
// dx = inv·(g − x·inv·mean(g·x·inv)) (+ res with RESIDUAL), g = dy·W, x the norm's input (norm_x). Needs
// the whole row in one tile (in features ≤ TILE); Σ g·x over the row is reduced through workgroup memory.
// Saves the norm's dispatch and its rows × in array. No ACCUMULATE, alpha 1.
override NORM: bool = false;

const TILE: u32 = 64u;
const TK: u32 = 16u;

struct Params {
  rows: u32,   // M
  cols: u32,   // N (outputs per row of this product)
  depth: u32,  // K (reduction length)
  tiles_n: u32,
  // linear_edge_input.wgsl only
  rbf_size: u32,
  sh_stride: u32,
  cutoff: f32,
  rbf_coeff: f32,
  // linear_dense.wgsl only: residual scale (forward) or input-gradient scale (backward)
  alpha: f32,
  // NORM: RMSNorm's eps
  eps: f32,
  // linear_parts.wgsl only: columns per part
  part_cols: u32,
  // linear_dense.wgsl ROW_TERM / SUM_SLOTS: rows per group (the K slots of an atom)
  slots: u32,
  // linear_dense.wgsl: y (forward) and dy (backward) are columns [y_off, y_off + out) of rows y_stride wide
  // (0: dense), e.g. one half of a concatenation, written or read in place
  y_stride: u32,
  y_off: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x_in: array<f32>;        // forward input [M,K] (dense operands); backward dy [M,K]
@group(0) @binding(2) var<storage, read> weight: array<f32>;   // [out,in]
@group(0) @binding(3) var<storage, read> bias: array<f32>;     // [out]
@group(0) @binding(4) var<storage, read_write> y_out: array<f32>;  // forward y [M,N]; backward dx [M,N]
@group(0) @binding(5) var<storage, read_write> pre: array<f32>;// forward: written pre-activation; backward: read (load_dy)

var<workgroup> a_tile: array<array<f32, TILE>, TK>;   // [k][m]
var<workgroup> b_tile: array<array<f32, TILE>, TK>;   // [k][n]

fn tile_origin(wid: vec3u, nwg: vec3u) -> vec3u {
  let flat = wid.x + wid.y * nwg.x;
  let tiles_m = (params.rows + TILE - 1u) / TILE;
  return vec3u((flat / params.tiles_n) * TILE, (flat % params.tiles_n) * TILE, select(0u, 1u, flat < tiles_m * params.tiles_n));
}

@compute @workgroup_size(16, 16)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_id) lid: vec3u) {
  let o = tile_origin(wid, nwg);
  if (o.z == 0u) { return; }   // uniform per workgroup: past the last tile of a folded grid
  let M = params.rows; let N = params.cols; let K = params.depth;
  let li = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  var ss: array<f32, 4>;   // NORM: Σx² of this invocation's 4 rows
  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var e = li; e < TILE * TK; e += 256u) {
      let kk = e % TK; let mm = e / TK;
      let gm = o.x + mm; let gk = k0 + kk;
      var xv = 0.0;
      if (gm < M && gk < K) { xv = load_x(gm, gk); }
      a_tile[kk][mm] = xv;
      let gn = o.y + mm;
      b_tile[kk][mm] = select(0.0, weight[gn * K + gk], gn < N && gk < K);   // Wᵀ: b[k][n] = W[n,k]
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var av: array<f32, 4>; var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = a_tile[kk][lid.y * 4u + i]; bv[i] = b_tile[kk][lid.x * 4u + i]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); } }
      if (NORM) { for (var i = 0u; i < 4u; i++) { ss[i] = fma(av[i], av[i], ss[i]); } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    if (gm >= M) { continue; }
    var inv = 1.0;
    if (NORM) {
      inv = inverseSqrt(ss[i] / f32(K) + params.eps);
      if (o.y == 0u && lid.x == 0u) { store_inv_rms(gm, inv); }
    }
    for (var j = 0u; j < 4u; j++) {
      let gn = o.y + lid.x * 4u + j;
      if (gn >= N) { continue; }
      var v = acc[i][j] * inv;
      if (HAS_BIAS) { v += bias[gn]; }
      v += row_term(gm, gn);
      if (GELU) {
        if (STORE_PRE) { pre[gm * N + gn] = v; }
        v = gelu(v);
      }
      store_y(gm * N + gn, v);
    }
  }
}

@compute @workgroup_size(16, 16)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_id) lid: vec3u) {
  let o = tile_origin(wid, nwg);
  if (o.z == 0u) { return; }
  let M = params.rows; let N = params.cols; let K = params.depth;   // N = in features, K = out features
  let li = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var e = li; e < TILE * TK; e += 256u) {
      let kk = e % TK; let mm = e / TK;
      let gm = o.x + mm; let gk = k0 + kk;
      var g = 0.0;
      if (gm < M && gk < K) { g = load_dy(gm, gk); }
      a_tile[kk][mm] = g;
      let kb = e / TILE; let nb = e % TILE;   // coalesced along n: b[k][n] = W[k,n]
      let gn = o.y + nb; let gkb = k0 + kb;
      b_tile[kb][nb] = select(0.0, weight[gkb * N + gn], gn < N && gkb < K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var av: array<f32, 4>; var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = a_tile[kk][lid.y * 4u + i]; bv[i] = b_tile[kk][lid.x * 4u + i]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); } }
    }
    workgroupBarrier();
  }
  if (NORM) {
    // Σ_c g·x of each of this invocation's 4 rows over its 4 columns; the 16 invocations of a row add up
    // through a_tile (free after the loop's last barrier)
    for (var i = 0u; i < 4u; i++) {
      let gm = o.x + lid.y * 4u + i;
      var part = 0.0;
      for (var j = 0u; j < 4u; j++) {
        let gn = o.y + lid.x * 4u + j;
        if (gm < M && gn < N) { part += acc[i][j] * norm_x(gm, gn); }
      }
      a_tile[lid.x][lid.y * 4u + i] = part;
    }
    workgroupBarrier();
    for (var i = 0u; i < 4u; i++) {
      let gm = o.x + lid.y * 4u + i;
      if (gm >= M) { continue; }
      var dot = 0.0;
      for (var t = 0u; t < 16u; t++) { dot += a_tile[t][lid.y * 4u + i]; }
      let inv = load_inv_rms(gm);
      let mean_dot = dot * inv / f32(N);
      for (var j = 0u; j < 4u; j++) {
        let gn = o.y + lid.x * 4u + j;
        if (gn < N) { acc[i][j] = inv * (acc[i][j] - norm_x(gm, gn) * inv * mean_dot) + norm_res(gm, gn); }
      }
    }
  }
  store_dx(o.xy, lid.xy, acc);
}
