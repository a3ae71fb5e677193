// Parameters shared by the per-slot feature kernels (prepended to features/*.wgsl). Slots are
// the padded graph layout of graph/common.wgsl: global slot a·K + r; counts[4a + 1] = edges.

struct Params {
  n_atoms: u32,
  k_slots: u32,
  rbf_size: u32,
  sh_lmax: u32,       // degree of the per-slot SH table
  sh_size: u32,       // (sh_lmax + 1)²
  boo_lmax: u32,
  cutoff: f32,
  rbf_coeff: f32,     // −0.5/(2Δ)², Δ = cutoff/(rbf_size − 1)
  knn_k: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

const WG: u32 = 64u;

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn rbf_center(i: u32) -> f32 {
  return params.cutoff * f32(i) / f32(params.rbf_size - 1u);
}

fn edges_of(counts_word: u32) -> u32 { return min(counts_word, params.k_slots); }

// true: BOO is the envelope-weighted mean over the row's slots (architecture.boo_envelope_weighted).
override BOO_WEIGHTED: bool = false;

// Weight of a slot in the weighted BOO mean: exp of the key bias −x²/(1−x²); 1 for the self slot,
// → 0 with every derivative as x → 1, so a slot entering or leaving the row changes nothing.
fn boo_weight(x: f32) -> f32 {
  return exp(-x * x / (1.0 - x * x));
}
