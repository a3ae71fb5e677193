// Node attention backward, key-major: dk, dv and the key-side ERoPE gradient. Needs common.wgsl.
// Each entry point lives in its own module: SwiftShader crashes at run time when these entry
// points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

var<workgroup> tile_a: array<f32, TILE * MAXD>;   // q rows of the tile
var<workgroup> tile_b: array<f32, TILE * MAXD>;   // dO rows of the tile
var<workgroup> tile_atoms: array<vec4f, TILE>;
var<workgroup> tile_stats: array<vec2f, TILE>;

/** Query tile from row t0: q rows into tile_a, dO rows into tile_b, (log-sum-exp, D) and atoms. */
fn load_query_tile(t0: u32, h: u32, lid: u32) {
  for (var e = lid; e < TILE * D; e += BLOCK) {
    let i = t0 + e / D;
    let c = e % D;
    let ic = min(i, params.n - 1u);
    tile_a[e] = select(0.0, q[ic * params.hidden + h * D + c], i < params.n);
    tile_b[e] = select(0.0, o_in[ic * params.hidden + h * D + c], i < params.n);
  }
  if (lid < TILE) {
    let i = t0 + lid;
    let ic = min(i, params.n - 1u);
    tile_atoms[lid] = select(vec4f(0.0, 0.0, 0.0, -1.0), atoms[ic], i < params.n);
    tile_stats[lid] = vec2f(stats[(h * params.n + ic) * 2u], stats[(h * params.n + ic) * 2u + 1u]);
  }
}

@compute @workgroup_size(BLOCK)
fn backward_key(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let th = tile_of(wid, nwg);
  let h = th.y;
  if (h >= params.num_heads) { return; }
  let j = th.x * BLOCK + lid;
  let kv = j < params.n;
  let jc = min(j, params.n - 1u);
  let aj = select(vec4f(0.0, 0.0, 0.0, -2.0), atoms[jc], kv);
  var kj: array<f32, MAXD>;
  var vj: array<f32, MAXD>;
  var dkj: array<f32, MAXD>;
  var dvj: array<f32, MAXD>;
  for (var c = 0u; c < D; c++) {
    kj[c] = select(0.0, k[jc * params.hidden + h * D + c], kv);
    vj[c] = select(0.0, v[jc * params.hidden + h * D + c], kv);
    dkj[c] = 0.0; dvj[c] = 0.0;
  }
  var gpos = vec3f(0.0);
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_query_tile(t0, h, lid);
    workgroupBarrier();
    for (var il = 0u; il < TILE; il++) {
      let ai = tile_atoms[il];
      if (ai.w != aj.w) { continue; }
      var qk = 0.0;
      var dov = 0.0;
      for (var c = 0u; c < D; c++) { qk += tile_a[il * D + c] * kj[c]; dov += tile_b[il * D + c] * vj[c]; }
      let sg = score_backward(h, ai, aj, qk, dov, tile_stats[il]);
      for (var c = 0u; c < D; c++) {
        dvj[c] += sg.p * tile_b[il * D + c];
        dkj[c] += sg.ds * params.scale * tile_a[il * D + c];
      }
      if (EROPE) { gpos += sg.g; }
    }
    workgroupBarrier();
  }
  if (kv) {
    let nh = params.n * params.hidden;
    for (var c = 0u; c < D; c++) {
      out[j * params.hidden + h * D + c] = dkj[c];
      out[nh + j * params.hidden + h * D + c] = dvj[c];
    }
    let geo = 2u * nh + (h * params.n + j) * 3u;
    out[geo] = gpos.x; out[geo + 1u] = gpos.y; out[geo + 2u] = gpos.z;
  }
}
