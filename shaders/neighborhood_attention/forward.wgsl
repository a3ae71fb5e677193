// Neighborhood attention forward: o_i = Σ_j softmax_j(logit_ij) v_j per head. Needs common.wgsl.

@group(0) @binding(1) var<storage, read> q: array<f32>;        // E×H each
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> o: array<f32>;  // E×H

@compute @workgroup_size(MAXK)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) r: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows || r >= params.slots) { return; }
  let e = element(row, r);
  let live = !is_empty(e);
  var yi = lae_sh(e);
  for (var h = 0u; h < params.num_heads; h++) {
    var qi: array<f32, MAXD>;
    var acc: array<f32, MAXD>;
    for (var c = 0u; c < D; c++) { qi[c] = q_at(e, h, c); acc[c] = 0.0; }
    var m = -3.4e38;
    var l = 0.0;
    for (var j = 0u; j < params.slots; j++) {
      let ej = element(row, j);
      if (is_empty(ej) || !live) { continue; }
      let s = logit(&qi, &yi, ej, h);
      let m_new = max(m, s);
      let corr = exp(m - m_new);
      let p = exp(s - m_new);
      l = l * corr + p;
      for (var c = 0u; c < D; c++) { acc[c] = acc[c] * corr + p * v_at(ej, h, c); }
      m = m_new;
    }
    for (var c = 0u; c < D; c++) { o[e * params.hidden + h * D + c] = select(0.0, acc[c] / l, live); }
  }
}
