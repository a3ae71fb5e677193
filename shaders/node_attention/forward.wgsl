// Node attention forward: online softmax over streamed key tiles, every head of the workgroup's group
// from one ERoPE distance and basis per pair. Needs common.wgsl and key_tile.wgsl prepended.
// Each entry point lives in its own module: SwiftShader crashes at run time when these entry
// points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

@group(0) @binding(6) var<storage, read_write> o: array<f32>;       // N×H
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;   // log-sum-exp at (h·N + i)·2

@compute @workgroup_size(BLOCK)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let th = tile_of(wid, nwg);
  let g0 = th.y * HG;
  if (g0 >= params.num_heads) { return; }
  let gd = HG * D;
  let i = th.x * BLOCK + lid;
  let qv = i < params.n;
  let ic = min(i, params.n - 1u);
  let ai = select(vec4f(0.0, 0.0, 0.0, -2.0), atoms[ic], qv);
  let met = load_metric(u32(max(ai.w, 0.0)));
  var qi: array<f32, MAXD>;
  var acc: array<f32, MAXD>;
  for (var e = 0u; e < gd; e++) { qi[e] = select(0.0, q_at(ic, g0 * D + e), qv); acc[e] = 0.0; }
  var m: array<f32, MAXG>;
  var l: array<f32, MAXG>;
  for (var g = 0u; g < HG; g++) { m[g] = -3.4e38; l[g] = 0.0; }
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_key_tile(t0, g0, lid);
    workgroupBarrier();
    for (var jl = 0u; jl < TILE; jl++) {
      if (tile_atoms[jl].w != ai.w) { continue; }   // other system, padding, or past N
      var eb: GroupBias;
      if (EROPE) { eb = table_bias(g0, pair_geometry(met, ai, tile_atoms[jl], false).r, false); }
      for (var g = 0u; g < HG; g++) {
        var s = 0.0;
        for (var c = 0u; c < D; c++) { s += qi[g * D + c] * tile_a[jl * gd + g * D + c]; }
        s *= params.scale;
        if (EROPE) { s += eb.bias[g]; }
        // One exp per key: of corr = exp(m − m_new) and p = exp(s − m_new) one is 1 and the other exp(−|s − m|).
        let e = exp(-abs(s - m[g]));
        let up = s > m[g];
        let corr = select(1.0, e, up);
        let p = select(e, 1.0, up);
        l[g] = l[g] * corr + p;
        for (var c = 0u; c < D; c++) { acc[g * D + c] = acc[g * D + c] * corr + p * tile_b[jl * gd + g * D + c]; }
        m[g] = max(m[g], s);
      }
    }
    workgroupBarrier();
  }
  // No early return for padding rows: SwiftShader's JIT mis-compiles a divergent return after barriers.
  if (qv) {
    for (var g = 0u; g < HG; g++) {
      for (var c = 0u; c < D; c++) { o[i * params.hidden + (g0 + g) * D + c] = acc[g * D + c] / l[g]; }
      stats[((g0 + g) * params.n + i) * 2u] = m[g] + log(l[g]);
    }
  }
}
