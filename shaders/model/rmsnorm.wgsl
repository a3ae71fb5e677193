// RMSNorm y = x / sqrt(mean(x²) + eps) · w per row, and its backward dx = dres + inv·(g·w − x̂·mean(g·w·x̂))
// (dres: the residual branch's gradient, added here so a pre-norm block needs no extra pass).
// One invocation per row.

struct Params { rows: u32, dim: u32, eps: f32, has_res: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;        // forward: y; backward: dx
@group(0) @binding(4) var<storage, read_write> inv_rms: array<f32>;  // forward: written; backward: read
@group(0) @binding(5) var<storage, read> g: array<f32>;              // backward: ∂E/∂y
@group(0) @binding(6) var<storage, read> dres: array<f32>;           // backward: added to dx when has_res

fn row_of(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_of(gid, nwg);
  if (r >= params.rows) { return; }
  let o = r * params.dim;
  var ms = 0.0;
  for (var i = 0u; i < params.dim; i++) { ms += x[o + i] * x[o + i]; }
  let inv = 1.0 / sqrt(ms / f32(params.dim) + params.eps);
  inv_rms[r] = inv;
  for (var i = 0u; i < params.dim; i++) { y[o + i] = x[o + i] * inv * w[i]; }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_of(gid, nwg);
  if (r >= params.rows) { return; }
  let o = r * params.dim;
  let inv = inv_rms[r];
  var dot = 0.0;
  for (var i = 0u; i < params.dim; i++) { dot += g[o + i] * w[i] * x[o + i] * inv; }
  dot /= f32(params.dim);
  for (var i = 0u; i < params.dim; i++) {
    var v = inv * (g[o + i] * w[i] - x[o + i] * inv * dot);
    if (params.has_res != 0u) { v += dres[o + i]; }
    y[o + i] = v;
  }
}
