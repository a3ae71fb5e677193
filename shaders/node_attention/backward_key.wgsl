// Node attention backward, key-major: dk, dv and the key-side ERoPE gradient for every head of the
// workgroup's group, one distance, basis and distance derivative per pair. Needs common.wgsl.
// Each entry point lives in its own module: SwiftShader crashes at run time when these entry
// points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

@group(0) @binding(7) var<storage, read> stats: array<f32>;         // (log-sum-exp, D_i) at (h·N + i)·2
@group(0) @binding(8) var<storage, read> d_o: array<f32>;           // N×H
// dk at j·grad_stride + grad_offset_a, dv at + grad_offset_b; from partials_offset (group·N + j)·3: ∂E/∂position
@group(0) @binding(9) var<storage, read_write> grads: array<f32>;

var<workgroup> tile_a: array<f32, TILE * MAXD>;   // q rows of the tile, the group's HG·D columns
var<workgroup> tile_b: array<f32, TILE * MAXD>;   // dO rows of the tile
var<workgroup> tile_atoms: array<vec4f, TILE>;
var<workgroup> tile_stats: array<vec2f, TILE * MAXG>;

/** Query tile from row t0: q rows into tile_a, dO rows into tile_b, (log-sum-exp, D) per head and atoms. */
fn load_query_tile(t0: u32, g0: u32, lid: u32) {
  let gd = HG * D;
  for (var e = lid; e < TILE * gd; e += BLOCK) {
    let i = t0 + e / gd;
    let col = g0 * D + e % gd;
    let ic = min(i, params.n - 1u);
    tile_a[e] = select(0.0, q_at(ic, col), i < params.n);
    tile_b[e] = select(0.0, d_o[ic * params.hidden + col], i < params.n);
  }
  for (var e = lid; e < TILE * HG; e += BLOCK) {
    let ic = min(t0 + e / HG, params.n - 1u);
    let h = g0 + e % HG;
    tile_stats[e] = vec2f(stats[(h * params.n + ic) * 2u], stats[(h * params.n + ic) * 2u + 1u]);
  }
  if (lid < TILE) {
    let i = t0 + lid;
    tile_atoms[lid] = select(vec4f(0.0, 0.0, 0.0, -1.0), atoms[min(i, params.n - 1u)], i < params.n);
  }
}

@compute @workgroup_size(BLOCK)
fn backward_key(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let th = tile_of(wid, nwg);
  let g0 = th.y * HG;
  if (g0 >= params.num_heads) { return; }
  let gd = HG * D;
  let j = th.x * BLOCK + lid;
  let kv = j < params.n;
  let jc = min(j, params.n - 1u);
  let aj = select(vec4f(0.0, 0.0, 0.0, -2.0), atoms[jc], kv);
  let met = load_metric(u32(max(aj.w, 0.0)));
  var kj: array<f32, MAXD>;
  var vj: array<f32, MAXD>;
  var dkj: array<f32, MAXD>;
  var dvj: array<f32, MAXD>;
  for (var e = 0u; e < gd; e++) {
    kj[e] = select(0.0, k_at(jc, g0 * D + e), kv);
    vj[e] = select(0.0, v_at(jc, g0 * D + e), kv);
    dkj[e] = 0.0; dvj[e] = 0.0;
  }
  var gpos = vec3f(0.0);
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_query_tile(t0, g0, lid);
    workgroupBarrier();
    for (var il = 0u; il < TILE; il++) {
      let ai = tile_atoms[il];
      if (ai.w != aj.w) { continue; }
      var pg: PairGeometry;
      var eb: GroupBias;
      if (EROPE) {
        pg = pair_geometry(met, ai, aj, true);
        eb = table_bias(g0, pg.r, true);
      }
      var dr = 0.0;
      for (var g = 0u; g < HG; g++) {
        var qk = 0.0;
        var dov = 0.0;
        for (var c = 0u; c < D; c++) {
          qk += tile_a[il * gd + g * D + c] * kj[g * D + c];
          dov += tile_b[il * gd + g * D + c] * vj[g * D + c];
        }
        var s = qk * params.scale;
        if (EROPE) { s += eb.bias[g]; }
        let st = tile_stats[il * HG + g];
        let p = exp(s - st.x);
        let ds = p * (dov - st.y);
        for (var c = 0u; c < D; c++) {
          dvj[g * D + c] += p * tile_b[il * gd + g * D + c];
          dkj[g * D + c] += ds * params.scale * tile_a[il * gd + g * D + c];
        }
        if (EROPE) { dr += ds * eb.dbias[g]; }
      }
      if (EROPE) { gpos += dr * pg.grad; }
    }
    workgroupBarrier();
  }
  if (kv) {
    for (var e = 0u; e < gd; e++) {
      grads[j * params.grad_stride + params.grad_offset_a + g0 * D + e] = dkj[e];
      grads[j * params.grad_stride + params.grad_offset_b + g0 * D + e] = dvj[e];
    }
    let geo = params.partials_offset + (th.y * params.n + j) * 3u;
    grads[geo] = gpos.x; grads[geo + 1u] = gpos.y; grads[geo + 2u] = gpos.z;
  }
}
