// Geometric features of the padded slots (needs features/common.wgsl and features/sh.wgsl
// prepended): Gaussian RBF of the distance and the SH table of the direction per slot (empty
// slots get zeros), and the bond-orientational order per atom,
// BOO_l = sqrt(max(Σ_m (mean over the row's slots of Y_lm/√(2l+1))², 1e-6)), self slot included;
// with BOO_WEIGHTED the mean is Σ_r w_r Ŷ_r / Σ_r w_r, w = boo_weight(x) (docs/model-format.md).
// The SH table also serves the input block and the LAE angle kernel (Ŷ_l = Y_l/√(2l+1)).

// false: the RBF table is not materialised (a consumer evaluates exp(coeff·(d − μ_i)²) from
// slot_geom itself; N·K·rbf_size floats get large for 512 RBFs).
override WRITE_RBF: bool = true;

@group(0) @binding(1) var<storage, read> slot_meta: array<vec4i>;
@group(0) @binding(2) var<storage, read> slot_geom: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> rbf: array<f32>;      // (N·K)×rbf_size
@group(0) @binding(4) var<storage, read_write> sh: array<f32>;       // (N·K)×sh_size
@group(0) @binding(5) var<storage, read> counts: array<u32>;
@group(0) @binding(6) var<storage, read> sh_in: array<f32>;
@group(0) @binding(7) var<storage, read_write> boo: array<f32>;      // N×(boo_lmax+1)
@group(0) @binding(8) var<storage, read_write> boo_cache: array<f32>;// N×((L+1)² + L+2): means, Σ_m mean², Σ weights
@group(0) @binding(9) var<storage, read> slot_env: array<vec4f>;    // (x, …) per slot: the BOO weights

@compute @workgroup_size(WG)
fn edge_features(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = flat_id(gid, nwg);
  if (s >= params.n_atoms * params.k_slots) { return; }
  let R = params.rbf_size;
  let S = params.sh_size;
  if (slot_meta[s].x < 0) {
    if (WRITE_RBF) { for (var i = 0u; i < R; i++) { rbf[s * R + i] = 0.0; } }
    for (var c = 0u; c < S; c++) { sh[s * S + c] = 0.0; }
    return;
  }
  let g = slot_geom[s];
  if (WRITE_RBF) {
    for (var i = 0u; i < R; i++) {
      let t = g.w - rbf_center(i);
      rbf[s * R + i] = exp(params.rbf_coeff * t * t);
    }
  }
  let u = select(vec3f(0.0), g.xyz / g.w, g.w > 0.0);
  sh_eval(u, params.sh_lmax);
  for (var c = 0u; c < S; c++) { sh[s * S + c] = sh_val[c]; }
}

@compute @workgroup_size(WG)
fn boo_features(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let L = params.boo_lmax;
  let nb = (L + 1u) * (L + 1u);
  let ne = edges_of(counts[4u * a + 1u]);
  let S = params.sh_size;
  let cb = a * (nb + L + 2u);
  var wsum = f32(max(ne, 1u));
  if (BOO_WEIGHTED) {
    wsum = 0.0;   // ≥ 1: the self slot has x = 0
    for (var r = 0u; r < ne; r++) { wsum += boo_weight(slot_env[a * params.k_slots + r].x); }
  }
  boo_cache[cb + nb + L + 1u] = wsum;
  let inv = 1.0 / wsum;
  for (var l = 0u; l <= L; l++) {
    let sc = inv / sqrt(f32(2u * l + 1u));
    var ss = 0.0;
    for (var c = l * l; c < (l + 1u) * (l + 1u); c++) {
      var m = 0.0;
      if (BOO_WEIGHTED) {
        for (var r = 0u; r < ne; r++) {
          let s = a * params.k_slots + r;
          m += boo_weight(slot_env[s].x) * sh_in[s * S + c];
        }
      } else {
        for (var r = 0u; r < ne; r++) { m += sh_in[(a * params.k_slots + r) * S + c]; }
      }
      m *= sc;
      boo_cache[cb + c] = m;
      ss += m * m;
    }
    boo_cache[cb + nb + l] = ss;
    boo[a * (L + 1u) + l] = sqrt(max(ss, 1e-6));
  }
}
