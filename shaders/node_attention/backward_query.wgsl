// Node attention backward, query-major: dq and the query-side ERoPE gradient + virial. Needs common.wgsl and key_tile.wgsl prepended.
// Each entry point lives in its own module: SwiftShader crashes at run time when these entry
// points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

@compute @workgroup_size(BLOCK)
fn backward_query(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let th = tile_of(wid, nwg);
  let h = th.y;
  if (h >= params.num_heads) { return; }
  let i = th.x * BLOCK + lid;
  let qv = i < params.n;
  let ic = min(i, params.n - 1u);
  let ai = select(vec4f(0.0, 0.0, 0.0, -2.0), atoms[ic], qv);
  var qi: array<f32, MAXD>;
  var doi: array<f32, MAXD>;
  var dqi: array<f32, MAXD>;
  for (var c = 0u; c < D; c++) {
    qi[c] = select(0.0, q[ic * params.hidden + h * D + c], qv);
    doi[c] = select(0.0, o_in[ic * params.hidden + h * D + c], qv);
    dqi[c] = 0.0;
  }
  let row = vec2f(stats[(h * params.n + ic) * 2u], stats[(h * params.n + ic) * 2u + 1u]);   // (log-sum-exp, D_i)
  var gpos = vec3f(0.0);
  var vir0 = vec3f(0.0); var vir1 = vec3f(0.0); var vir2 = vec3f(0.0);
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_key_tile(t0, h, lid);
    workgroupBarrier();
    for (var jl = 0u; jl < TILE; jl++) {
      if (tile_atoms[jl].w != ai.w) { continue; }
      var qk = 0.0;
      var dov = 0.0;
      for (var c = 0u; c < D; c++) { qk += qi[c] * tile_a[jl * D + c]; dov += doi[c] * tile_b[jl * D + c]; }
      let sg = score_backward(h, ai, tile_atoms[jl], qk, dov, row);
      for (var c = 0u; c < D; c++) { dqi[c] += sg.ds * params.scale * tile_a[jl * D + c]; }
      if (EROPE) {
        gpos -= sg.g;   // the query moves the displacement the other way
        if (SMOOTH_PBC) {
          vir0 += sg.strain[0]; vir1 += sg.strain[1]; vir2 += sg.strain[2];   // symmetric: columns = rows
        } else {
          vir0 += sg.disp.x * sg.g; vir1 += sg.disp.y * sg.g; vir2 += sg.disp.z * sg.g;
        }
      }
    }
    workgroupBarrier();
  }
  if (qv) {
    for (var c = 0u; c < D; c++) { out[i * params.hidden + h * D + c] = dqi[c]; }
    let geo = params.n * params.hidden + (h * params.n + i) * 12u;
    out[geo] = gpos.x; out[geo + 1u] = gpos.y; out[geo + 2u] = gpos.z;
    out[geo + 3u] = vir0.x; out[geo + 4u] = vir0.y; out[geo + 5u] = vir0.z;
    out[geo + 6u] = vir1.x; out[geo + 7u] = vir1.y; out[geo + 8u] = vir1.z;
    out[geo + 9u] = vir2.x; out[geo + 10u] = vir2.y; out[geo + 11u] = vir2.z;
  }
}
