// RMSNorm y = x / sqrt(mean(x²) + eps) · w per row, and its input gradient
// dx = inv·(dy⊙w − x̂·mean(dy⊙w⊙x̂)). One 64-wide workgroup per row; the forward saves 1/rms
// per row so the backward needs no second reduction over x². With RESIDUAL the backward adds the skip
// connection's gradient: dx = res + RMSNorm'ᵀ·dy.

override RESIDUAL: bool = false;

const WG: u32 = 64u;

struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;        // forward output
@group(0) @binding(4) var<storage, read_write> inv_rms: array<f32>;  // forward: written; backward: read
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read> res: array<f32>;           // backward, RESIDUAL only

var<workgroup> partial: array<f32, WG>;

fn reduce_sum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let o = row * params.dim;
  var ss = 0.0;
  for (var c = lid; c < params.dim; c += WG) { let v = x[o + c]; ss += v * v; }
  let inv = inverseSqrt(reduce_sum(lid, ss) / f32(params.dim) + params.eps);
  for (var c = lid; c < params.dim; c += WG) { y[o + c] = x[o + c] * inv * weight[c]; }
  if (lid == 0u) { inv_rms[row] = inv; }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let o = row * params.dim;
  let inv = inv_rms[row];
  var dot = 0.0;
  for (var c = lid; c < params.dim; c += WG) { dot += dy[o + c] * weight[c] * x[o + c] * inv; }
  let mean_dot = reduce_sum(lid, dot) / f32(params.dim);
  for (var c = lid; c < params.dim; c += WG) {
    var g = inv * (dy[o + c] * weight[c] - x[o + c] * inv * mean_dot);
    if (RESIDUAL) { g += res[o + c]; }
    dx[o + c] = g;
  }
}
