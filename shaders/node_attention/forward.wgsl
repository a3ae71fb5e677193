// Node attention forward: online softmax over streamed key tiles. Needs common.wgsl and key_tile.wgsl prepended.
// Each entry point lives in its own module: SwiftShader crashes at run time when these entry
// points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

@compute @workgroup_size(BLOCK)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let th = tile_of(wid, nwg);
  let h = th.y;
  if (h >= params.num_heads) { return; }
  let i = th.x * BLOCK + lid;
  let qv = i < params.n;
  let ai = select(vec4f(0.0, 0.0, 0.0, -2.0), atoms[min(i, params.n - 1u)], qv);
  var qi: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var c = 0u; c < D; c++) { qi[c] = select(0.0, q[i * params.hidden + h * D + c], qv); acc[c] = 0.0; }
  var m = -3.4e38;
  var l = 0.0;
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_key_tile(t0, h, lid);
    workgroupBarrier();
    for (var jl = 0u; jl < TILE; jl++) {
      if (tile_atoms[jl].w != ai.w) { continue; }   // other system, padding, or past N
      var s = 0.0;
      for (var c = 0u; c < D; c++) { s += qi[c] * tile_a[jl * D + c]; }
      s *= params.scale;
      if (EROPE) { s += erope_bias(h, ai, tile_atoms[jl]); }
      let m_new = max(m, s);
      let corr = exp(m - m_new);
      let p = exp(s - m_new);
      l = l * corr + p;
      for (var c = 0u; c < D; c++) { acc[c] = acc[c] * corr + p * tile_b[jl * D + c]; }
      m = m_new;
    }
    workgroupBarrier();
  }
  // No early return for padding rows: SwiftShader's JIT mis-compiles a divergent return after barriers.
  if (qv) {
    for (var c = 0u; c < D; c++) { out[i * params.hidden + h * D + c] = acc[c] / l; }
    stats[(h * params.n + i) * 2u] = m + log(l);
  }
}
