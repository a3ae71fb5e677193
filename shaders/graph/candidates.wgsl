// Neighbor candidates with periodic images (needs common.wgsl prepended): wrap positions into
// the cell, keep each row's `kc` nearest (atom, image) pairs closer than cutoff + 4·s in
// ascending distance (ties keep scan order, as a stable sort would), then their soft source
// ranks. One invocation per row scans every atom and image (all-pairs); `scan_atom` is the
// unit a cell list would call for the atoms of the neighbouring cells instead.

@group(0) @binding(1) var<storage, read> positions_in: array<f32>;     // N×3
@group(0) @binding(2) var<storage, read_write> positions: array<f32>;  // N×3, wrapped
@group(0) @binding(3) var<storage, read> images: array<vec4f>;         // M translations T_m
@group(0) @binding(4) var<storage, read_write> cand_meta: array<vec2i>;   // (neighbor, image)
@group(0) @binding(5) var<storage, read_write> cand_geom: array<vec4f>;   // (disp, distance)
@group(0) @binding(6) var<storage, read_write> counts: array<u32>;        // see common.wgsl
@group(0) @binding(7) var<storage, read> cand_geom_in: array<vec4f>;      // soft_rank input
@group(0) @binding(8) var<storage, read> counts_in: array<u32>;           // soft_rank input
@group(0) @binding(9) var<storage, read_write> cand_rank: array<f32>;

@compute @workgroup_size(WG)
fn wrap_positions(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let p = vec3f(positions_in[3u * a], positions_in[3u * a + 1u], positions_in[3u * a + 2u]);
  var q = p;
  if (params.pbc != 0u) {
    var f = vec3f(dot(p, params.rec0), dot(p, params.rec1), dot(p, params.rec2));
    if ((params.pbc & 1u) != 0u) { f.x -= floor(f.x); }
    if ((params.pbc & 2u) != 0u) { f.y -= floor(f.y); }
    if ((params.pbc & 4u) != 0u) { f.z -= floor(f.z); }
    q = f.x * params.lat0 + f.y * params.lat1 + f.z * params.lat2;
  }
  positions[3u * a] = q.x;
  positions[3u * a + 1u] = q.y;
  positions[3u * a + 2u] = q.z;
}

struct RowState {
  count: u32,
  within: u32,
  overlap: u32,
}

/** Offer every image of atom b to row a's sorted candidate list. */
fn scan_atom(a: u32, pa: vec3f, b: u32, st: ptr<function, RowState>) {
  let base = a * params.kc;
  let d0 = vec3f(positions[3u * b], positions[3u * b + 1u], positions[3u * b + 2u]) - pa;
  for (var m = 0u; m < params.n_images; m++) {
    let dv = d0 + images[m].xyz;
    let r2 = dot(dv, dv);
    if (r2 >= params.reach2) { continue; }
    // safe_norm: |x|² ≤ 1e-12 is the self-loop; another atom there is an overlap.
    var d = sqrt(r2);
    if (r2 <= 1e-12) {
      d = 0.0;
      if (b != a && (*st).overlap == 0u) { (*st).overlap = b + 1u; }
    }
    (*st).within += 1u;
    var i = (*st).count;
    if (i == params.kc) {
      if (d >= cand_geom[base + i - 1u].w) { continue; }
      i -= 1u;   // the current last one drops out
    } else {
      (*st).count += 1u;
    }
    while (i > 0u && cand_geom[base + i - 1u].w > d) {
      cand_geom[base + i] = cand_geom[base + i - 1u];
      cand_meta[base + i] = cand_meta[base + i - 1u];
      i -= 1u;
    }
    cand_geom[base + i] = vec4f(dv, d);
    cand_meta[base + i] = vec2i(i32(b), i32(m));
  }
}

@compute @workgroup_size(WG)
fn candidates(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let pa = vec3f(positions[3u * a], positions[3u * a + 1u], positions[3u * a + 2u]);
  var st = RowState(0u, 0u, 0u);
  for (var b = 0u; b < params.n_atoms; b++) { scan_atom(a, pa, b, &st); }
  counts[4u * a] = st.count;
  counts[4u * a + 2u] = st.overlap;
  counts[4u * a + 3u] = st.within;
}

/** rank_i = Σ_j step((d_i − d_j)/s) over the row's kept candidates; one invocation per candidate. */
@compute @workgroup_size(WG)
fn soft_rank(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  let i = c - a * params.kc;
  let count = counts_in[4u * a];
  if (i >= count) { return; }
  let base = a * params.kc;
  let di = cand_geom_in[c].w;
  var r = 0.0;
  for (var j = 0u; j < count; j++) {
    r += soft_step((di - cand_geom_in[base + j].w) / params.sigmoid_scale);
  }
  cand_rank[c] = r;
}
