// Node attention backward, query-major: dq and the query-side ERoPE gradient + virial for every head of
// the workgroup's group, one distance, basis and distance derivative per pair. Needs common.wgsl and
// key_tile.wgsl prepended. Each entry point lives in its own module: SwiftShader crashes at run time
// when these entry points share one module (seen with Dawn 0.6.2 + SwiftShader 5.0.0).

@group(0) @binding(7) var<storage, read> stats: array<f32>;         // (log-sum-exp, D_i) at (h·N + i)·2
@group(0) @binding(8) var<storage, read> d_o: array<f32>;           // N×H
// dq at i·grad_stride + grad_offset_a; from partials_offset (group·N + i)·12: ∂E/∂position, virial rows
@group(0) @binding(9) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(BLOCK)
fn backward_query(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
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
  var doi: array<f32, MAXD>;
  var dqi: array<f32, MAXD>;
  for (var e = 0u; e < gd; e++) {
    qi[e] = select(0.0, q_at(ic, g0 * D + e), qv);
    doi[e] = select(0.0, d_o[ic * params.hidden + g0 * D + e], qv);
    dqi[e] = 0.0;
  }
  var row: array<vec2f, MAXG>;   // (log-sum-exp, D_i) per head
  for (var g = 0u; g < HG; g++) { row[g] = vec2f(stats[((g0 + g) * params.n + ic) * 2u], stats[((g0 + g) * params.n + ic) * 2u + 1u]); }
  var gpos = vec3f(0.0);
  var vir = mat3x3f(vec3f(0.0), vec3f(0.0), vec3f(0.0));
  for (var t0 = 0u; t0 < params.n; t0 += TILE) {
    load_key_tile(t0, g0, lid);
    workgroupBarrier();
    for (var jl = 0u; jl < TILE; jl++) {
      if (tile_atoms[jl].w != ai.w) { continue; }
      var pg: PairGeometry;
      var eb: GroupBias;
      if (EROPE) {
        pg = pair_geometry(met, ai, tile_atoms[jl], true);
        eb = table_bias(g0, pg.r, true);
      }
      var dr = 0.0;   // Σ_heads ∂E/∂r of the pair
      for (var g = 0u; g < HG; g++) {
        var qk = 0.0;
        var dov = 0.0;
        for (var c = 0u; c < D; c++) {
          qk += qi[g * D + c] * tile_a[jl * gd + g * D + c];
          dov += doi[g * D + c] * tile_b[jl * gd + g * D + c];
        }
        var s = qk * params.scale;
        if (EROPE) { s += eb.bias[g]; }
        let ds = exp(s - row[g].x) * (dov - row[g].y);
        for (var c = 0u; c < D; c++) { dqi[g * D + c] += ds * params.scale * tile_a[jl * gd + g * D + c]; }
        if (EROPE) { dr += ds * eb.dbias[g]; }
      }
      if (EROPE) {
        gpos -= dr * pg.grad;   // the query moves the displacement the other way
        vir += dr * pg.strain;
      }
    }
    workgroupBarrier();
  }
  if (qv) {
    for (var e = 0u; e < gd; e++) { grads[i * params.grad_stride + params.grad_offset_a + g0 * D + e] = dqi[e]; }
    let geo = params.partials_offset + (th.y * params.n + i) * 12u;
    grads[geo] = gpos.x; grads[geo + 1u] = gpos.y; grads[geo + 2u] = gpos.z;
    for (var r = 0u; r < 3u; r++) {
      grads[geo + 3u + 3u * r] = vir[r].x; grads[geo + 4u + 3u * r] = vir[r].y; grads[geo + 5u + 3u * r] = vir[r].z;
    }
  }
}
