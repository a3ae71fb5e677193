// Node attention backward, first pass: D_i = dO_i·O_i per row and head. Needs common.wgsl.

/** D_i = Σ_c dO_ic O_ic per head (out holds dO here, o_in holds O). One invocation per (row, head). */
@compute @workgroup_size(64)
fn row_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= params.n * params.num_heads) { return; }
  let h = idx / params.n;
  let i = idx % params.n;
  var s = 0.0;
  for (var c = 0u; c < D; c++) { s += out[i * params.hidden + h * D + c] * o_in[i * params.hidden + h * D + c]; }
  stats[(h * params.n + i) * 2u + 1u] = s;
}
