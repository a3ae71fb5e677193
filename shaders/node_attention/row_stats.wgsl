// Node attention backward, first pass: D_i = dO_i·O_i per row and head. Needs common.wgsl.

@group(0) @binding(6) var<storage, read> o: array<f32>;             // N×H
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;   // D_i at (h·N + i)·2 + 1
@group(0) @binding(8) var<storage, read> d_o: array<f32>;           // N×H

/** One invocation per (row, head). */
@compute @workgroup_size(64)
fn row_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= params.n * params.num_heads) { return; }
  let h = idx / params.n;
  let i = idx % params.n;
  var s = 0.0;
  for (var c = 0u; c < D; c++) { s += d_o[i * params.hidden + h * D + c] * o[i * params.hidden + h * D + c]; }
  stats[(h * params.n + i) * 2u + 1u] = s;
}
