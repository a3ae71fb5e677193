// Parameters and helpers shared by the neighbor-graph kernels (prepended to each graph/*.wgsl).
// Row = center atom. Candidates: `kc` per row (global index a·kc + i), ascending distance.
// Slots: `k_slots` per row (global index a·K + r), slot 0 = self-loop, ascending x.
// counts[4a + 0] kept candidates, [4a + 1] edges (may exceed K: overflow), [4a + 2] overlap
// partner + 1 (0: none), [4a + 3] candidates within reach before truncation.

struct Params {
  n_atoms: u32,
  kc: u32,
  k_slots: u32,
  n_images: u32,
  pbc: u32,           // bit i set: lattice axis i is periodic
  cutoff: f32,
  reach2: f32,        // (cutoff + 4·s)²: beyond it the soft step is flat
  sigmoid_scale: f32, // s
  knn_k: f32,
  lse_scale: f32,     // τ
  lat0: vec3f,        // lattice vectors (rows of the cell), Å
  lat1: vec3f,
  lat2: vec3f,
  rec0: vec3f,        // columns of the inverse cell: frac_k = dot(pos, rec_k)
  rec1: vec3f,
  rec2: vec3f,
  // cell list (cell_list.wgsl): per lattice axis
  rep: vec3u,         // image repeats (0 on open axes): shifts beyond ±rep are never candidates
  grid_n: vec3u,      // periodic axis: cells; open axis: most cells allowed
  cell_frac: vec3f,   // smallest cell edge in fractional units, reach/(perpendicular width)
  reach_cells: vec3u, // periodic axis: neighbouring cells to scan either side
  max_cells: u32,
  permute_width: u32, // slot_permute.wgsl: floats per slot
  positions_stride: u32, // wrap_positions: floats per atom of positions_in (3, or 4 for the MD engine's vec4)
}

@group(0) @binding(0) var<uniform> params: Params;

const WG: u32 = 64u;

/** Flat invocation index of a (possibly folded 2-D) dispatch of 64-wide workgroups. */
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

/** Fractional coordinates of the Cartesian point p (Å): p · cell⁻¹. */
fn fractional(p: vec3f) -> vec3f {
  return vec3f(dot(p, params.rec0), dot(p, params.rec1), dot(p, params.rec2));
}

/** Smooth step of the soft rank: 0 below −4, 1 above 4, σ(4t/(1−t²)) with t = x/4 between. */
fn soft_step(x: f32) -> f32 {
  if (x >= 4.0) { return 1.0; }
  if (x <= -4.0) { return 0.0; }
  let t = x * 0.25;
  let a = exp(-2.0 / (1.0 + t));
  let b = exp(-2.0 / (1.0 - t));
  return a / (a + b);
}

/** d soft_step / dx (an even function). */
fn soft_step_derivative(x: f32) -> f32 {
  if (x >= 4.0 || x <= -4.0) { return 0.0; }
  let t = x * 0.25;
  let omt2 = 1.0 - t * t;
  let h = 4.0 * t / omt2;
  let sig = 1.0 / (1.0 + exp(-abs(h)));
  return sig * (1.0 - sig) * (1.0 + t * t) / (omt2 * omt2);
}

// Read at run time so the compiler cannot fold it (constant infinities are rejected).
var<private> NEG_INF_BITS: u32 = 0xff800000u;
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS); }
