// Neighbor candidates with periodic images (needs common.wgsl prepended): wrap positions into
// the cell, keep each row's `kc` nearest (atom, image) pairs closer than cutoff + 4·s in
// ascending (distance, atom, image) — the CPU's stable sort — then their soft source ranks.
// One invocation per row: `candidates` scans every atom and image (all-pairs reference),
// `candidates_cells` only the atoms of neighbouring cells of the cell list.

@group(0) @binding(1) var<storage, read> positions_in: array<f32>;     // N × positions_stride
@group(0) @binding(2) var<storage, read_write> positions: array<f32>;  // N×3, wrapped
@group(0) @binding(3) var<storage, read> images: array<vec4f>;         // M translations T_m
@group(0) @binding(4) var<storage, read_write> cand_meta: array<vec2i>;   // (neighbor, image)
@group(0) @binding(5) var<storage, read_write> cand_geom: array<vec4f>;   // (disp, distance)
@group(0) @binding(6) var<storage, read_write> counts: array<u32>;        // see common.wgsl
@group(0) @binding(7) var<storage, read> cand_geom_in: array<vec4f>;      // soft_rank input
@group(0) @binding(8) var<storage, read> counts_in: array<u32>;           // soft_rank input
@group(0) @binding(9) var<storage, read_write> cand_rank: array<f32>;
@group(0) @binding(10) var<storage, read> grid: Grid;                     // cell_list.wgsl
@group(0) @binding(11) var<storage, read> atom_cell: array<u32>;
@group(0) @binding(12) var<storage, read> cell_index: array<u32>;        // starts, then atoms from max_cells + 1
// inverse_index.wgsl's N counts and N cursors: zeroed by wrap_positions (one thread per atom anyway), which
// saves the index its own zeroing pass
@group(0) @binding(13) var<storage, read_write> inv_work: array<u32>;
// the wrapped positions again as (x, y, z, 0) per atom, node attention's layout (saves it a packing pass)
@group(0) @binding(14) var<storage, read_write> atoms: array<vec4f>;

struct Grid {
  n: vec4u,       // cells per axis
  reach: vec4u,   // cells to scan either side per axis
  origin: vec4f,  // fractional coordinate of the grid's corner
  scale: vec4f,   // cells per fractional unit
}

@compute @workgroup_size(WG)
fn wrap_positions(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let i = params.positions_stride * a;
  let p = vec3f(positions_in[i], positions_in[i + 1u], positions_in[i + 2u]);
  inv_work[a] = 0u;
  inv_work[params.n_atoms + a] = 0u;
  var q = p;
  if (params.pbc != 0u) {
    var f = fractional(p);
    if ((params.pbc & 1u) != 0u) { f.x -= floor(f.x); }
    if ((params.pbc & 2u) != 0u) { f.y -= floor(f.y); }
    if ((params.pbc & 4u) != 0u) { f.z -= floor(f.z); }
    q = f.x * params.lat0 + f.y * params.lat1 + f.z * params.lat2;
  }
  positions[3u * a] = q.x;
  positions[3u * a + 1u] = q.y;
  positions[3u * a + 2u] = q.z;
  atoms[a] = vec4f(q, 0.0);
}

struct RowState {
  count: u32,
  within: u32,
  overlap: u32,   // lowest overlapping atom + 1, 0: none
  bad: bool,      // the row's own position is not finite
}

/** NaN or ±inf in any component (checked on the bits: compilers may assume x == x). */
fn non_finite(p: vec3f) -> bool {
  return any(((bitcast<vec3u>(p) >> vec3u(23u)) & vec3u(0xffu)) == vec3u(0xffu));
}

// The row's sorted list lives in private memory while scanning (much cheaper than shifting
// entries in storage); planGraph keeps knn_candidates ≤ KC_CAP.
const KC_CAP: u32 = 64u;
var<private> row_geom: array<vec4f, KC_CAP>;   // (disp, distance)
var<private> row_meta: array<vec2i, KC_CAP>;   // (neighbor, image)

/** (d, b, m) orders before entry i: distance, then atom, then image (the CPU's stable sort). */
fn before(d: f32, b: i32, m: i32, i: u32) -> bool {
  let g = row_geom[i];
  if (d != g.w) { return d < g.w; }
  let cm = row_meta[i];
  if (b != cm.x) { return b < cm.x; }
  return m < cm.y;
}

/** Offer image m of atom b to row a's candidate list (kept sorted, at most kc long). */
fn scan_image(a: u32, pa: vec3f, b: u32, m: u32, st: ptr<function, RowState>) {
  // (pos_b − pos_a) + T_m: the reverse pair gives exactly the negated vector (reverse lookup relies on it)
  let dv = (vec3f(positions[3u * b], positions[3u * b + 1u], positions[3u * b + 2u]) - pa) + images[m].xyz;
  let r2 = dot(dv, dv);
  if (r2 >= params.reach2) { return; }
  // safe_norm: |x|² ≤ 1e-12 is the self-loop; another atom there is an overlap.
  var d = sqrt(r2);
  if (r2 <= 1e-12) {
    d = 0.0;
    if (b != a && ((*st).overlap == 0u || b + 1u < (*st).overlap)) { (*st).overlap = b + 1u; }
  }
  (*st).within += 1u;
  let bi = i32(b);
  let mi = i32(m);
  var i = (*st).count;
  if (i == params.kc) {
    if (!before(d, bi, mi, i - 1u)) { return; }
    i -= 1u;   // the current last one drops out
  } else {
    (*st).count += 1u;
  }
  while (i > 0u && before(d, bi, mi, i - 1u)) {
    row_geom[i] = row_geom[i - 1u];
    row_meta[i] = row_meta[i - 1u];
    i -= 1u;
  }
  row_geom[i] = vec4f(dv, d);
  row_meta[i] = vec2i(bi, mi);
}

fn finish_row(a: u32, st: RowState) {
  let base = a * params.kc;
  for (var i = 0u; i < st.count; i++) {
    cand_geom[base + i] = row_geom[i];
    cand_meta[base + i] = row_meta[i];
  }
  counts[4u * a] = st.count;
  counts[4u * a + 2u] = select(st.overlap, 0xffffffffu, st.bad);   // 0xffffffff: non-finite position
  counts[4u * a + 3u] = st.within;
}

/** All-pairs scan: every atom, every image. Simple reference for the cell-list scan. */
@compute @workgroup_size(WG)
fn candidates(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let pa = vec3f(positions[3u * a], positions[3u * a + 1u], positions[3u * a + 2u]);
  var st = RowState(0u, 0u, 0u, non_finite(pa));
  for (var b = 0u; b < params.n_atoms; b++) {
    for (var m = 0u; m < params.n_images; m++) { scan_image(a, pa, b, m, &st); }
  }
  finish_row(a, st);
}

/**
 * Cell-list scan (grid from cell_list.wgsl): only atoms of the neighbouring cells, each with
 * the one image shift that brings its cell next to row a's; shifts beyond ±rep are skipped as
 * the CPU's image enumeration never has them. Same candidates, same order as `candidates`.
 */
@compute @workgroup_size(WG)
fn candidates_cells(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let pa = vec3f(positions[3u * a], positions[3u * a + 1u], positions[3u * a + 2u]);
  let n = grid.n.xyz;
  let ca = atom_cell[a];
  let c = vec3i(i32(ca / (n.y * n.z)), i32((ca / n.z) % n.y), i32(ca % n.z));
  let R = vec3i(grid.reach.xyz);
  let rep = vec3i(params.rep);
  let periodic = vec3<bool>((params.pbc & 1u) != 0u, (params.pbc & 2u) != 0u, (params.pbc & 4u) != 0u);
  var st = RowState(0u, 0u, 0u, non_finite(pa));
  for (var o0 = -R.x; o0 <= R.x; o0++) {
    let u0 = c.x + o0;
    let w0 = wrap_cell(u0, i32(n.x), periodic.x, rep.x);
    if (w0.x < 0) { continue; }
    for (var o1 = -R.y; o1 <= R.y; o1++) {
      let u1 = c.y + o1;
      let w1 = wrap_cell(u1, i32(n.y), periodic.y, rep.y);
      if (w1.x < 0) { continue; }
      for (var o2 = -R.z; o2 <= R.z; o2++) {
        let u2 = c.z + o2;
        let w2 = wrap_cell(u2, i32(n.z), periodic.z, rep.z);
        if (w2.x < 0) { continue; }
        let cell = (u32(w0.x) * n.y + u32(w1.x)) * n.z + u32(w2.x);
        let m = u32(((w0.y + rep.x) * (2 * rep.y + 1) + (w1.y + rep.y)) * (2 * rep.z + 1) + (w2.y + rep.z));
        let o = params.max_cells + 1u;
        for (var k = cell_index[cell]; k < cell_index[cell + 1u]; k++) {
          scan_image(a, pa, cell_index[o + k], m, &st);
        }
      }
    }
  }
  finish_row(a, st);
}

/** Unwrapped cell coordinate u → (cell, image shift), or (−1, 0) when out of range. */
fn wrap_cell(u: i32, n: i32, periodic: bool, rep: i32) -> vec2i {
  if (!periodic) { return select(vec2i(-1, 0), vec2i(u, 0), u >= 0 && u < n); }
  let s = select(u / n, -((-u + n - 1) / n), u < 0);   // floor(u / n)
  if (s < -rep || s > rep) { return vec2i(-1, 0); }
  return vec2i(u - s * n, s);
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
