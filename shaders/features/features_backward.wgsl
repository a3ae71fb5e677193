// Backward of the slot features and the envelope bias (needs features/common.wgsl and
// features/sh.wgsl prepended). boo_backward adds ∂E/∂BOO's share to ∂E/∂Y in place (with
// BOO_WEIGHTED also the weights' share, ∂E/∂w·w, to ∂E/∂(key bias): w = exp(bias));
// slot_backward turns ∂E/∂(key bias), ∂E/∂RBF and ∂E/∂Y of each slot into what
// graph/graph_backward.wgsl consumes: slot_grad = (∂E/∂rank of the slot's candidate,
// direct ∂E/∂d) and slot_gunit = (I − uuᵀ)(∂E/∂u)/d. The destination rank of edge e is the
// source rank of its reverse edge, so a candidate's rank gradient gathers from rev(slot).

@group(0) @binding(1) var<storage, read> slot_meta: array<vec4i>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read> grad_boo: array<f32>;      // N×(boo_lmax+1)
@group(0) @binding(4) var<storage, read> boo_cache: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_sh: array<f32>; // (N·K)×sh_size
@group(0) @binding(6) var<storage, read> slot_geom: array<vec4f>;
@group(0) @binding(7) var<storage, read> slot_env: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> grad_bias: array<f32>; // N·K (boo_backward adds to it)
@group(0) @binding(9) var<storage, read> grad_rbf: array<f32>;      // (N·K)×rbf_size, or N·K ∂E/∂d with GRAD_IS_DIST

// true: the upstream gave ∂E/∂d per slot (its RBF backward fused) instead of ∂E/∂RBF.
override GRAD_IS_DIST: bool = false;
override DIST_PARTS: u32 = 1u;   // with GRAD_IS_DIST: partial sums of ∂E/∂d per slot (grad_rbf is (N·K)×DIST_PARTS)
@group(0) @binding(10) var<storage, read> grad_sh_in: array<f32>;
@group(0) @binding(11) var<storage, read_write> slot_grad: array<vec4f>;
@group(0) @binding(12) var<storage, read_write> slot_gunit: array<vec4f>;
@group(0) @binding(13) var<storage, read> sh_tab: array<f32>;       // (N·K)×sh_size, Y of each slot (forward)

@compute @workgroup_size(WG)
fn boo_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = flat_id(gid, nwg);
  let a = s / params.k_slots;
  if (a >= params.n_atoms) { return; }
  if (slot_meta[s].x < 0) { return; }
  let L = params.boo_lmax;
  let nb = (L + 1u) * (L + 1u);
  let cb = a * (nb + L + 2u);
  if (!BOO_WEIGHTED) {
    let inv = 1.0 / f32(max(edges_of(counts[4u * a + 1u]), 1u));
    for (var l = 0u; l <= L; l++) {
      let ss = boo_cache[cb + nb + l];
      if (!(ss > 1e-6)) { continue; }   // clamped: no gradient
      let g = grad_boo[a * (L + 1u) + l] / sqrt(ss) * inv / sqrt(f32(2u * l + 1u));
      for (var c = l * l; c < (l + 1u) * (l + 1u); c++) {
        grad_sh[s * params.sh_size + c] += g * boo_cache[cb + c];
      }
    }
    return;
  }
  // mean = Σ_r w_r Ŷ_r / W: ∂mean/∂Ŷ_s = w_s/W, ∂mean/∂w_s = (Ŷ_s − mean)/W
  let inv = 1.0 / boo_cache[cb + nb + L + 1u];
  let w = boo_weight(slot_env[s].x);
  var gw = 0.0;
  for (var l = 0u; l <= L; l++) {
    let ss = boo_cache[cb + nb + l];
    if (!(ss > 1e-6)) { continue; }   // clamped: no gradient
    let norm = sqrt(f32(2u * l + 1u));
    let gl = grad_boo[a * (L + 1u) + l] / sqrt(ss);
    let g = gl * inv / norm * w;
    for (var c = l * l; c < (l + 1u) * (l + 1u); c++) {
      let m = boo_cache[cb + c];
      grad_sh[s * params.sh_size + c] += g * m;
      gw += gl * m * (sh_tab[s * params.sh_size + c] / norm - m);
    }
  }
  grad_bias[s] += gw * inv * w;   // ∂w/∂bias = w
}

fn bias_derivative(x: f32) -> f32 {
  let q = 1.0 - x * x;
  return -2.0 * x / (q * q);
}

@compute @workgroup_size(WG)
fn slot_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = flat_id(gid, nwg);
  if (s >= params.n_atoms * params.k_slots) { return; }
  let sm = slot_meta[s];
  let g = slot_geom[s];
  if (sm.x < 0 || g.w == 0.0) {   // empty slot or self-loop (x ≡ 0, d = 0)
    slot_grad[s] = vec4f(0.0);
    slot_gunit[s] = vec4f(0.0);
    return;
  }
  let env = slot_env[s];
  let gx = grad_bias[s] * bias_derivative(env.x);
  var grank = gx * env.y / params.knn_k;
  if (sm.w >= 0) {
    let rv = u32(sm.w);
    let env_r = slot_env[rv];
    grank += grad_bias[rv] * bias_derivative(env_r.x) * env_r.z / params.knn_k;
  }
  let R = params.rbf_size;
  var gd = gx * env.w / params.cutoff;
  if (GRAD_IS_DIST) {
    for (var t = 0u; t < DIST_PARTS; t++) { gd += grad_rbf[s * DIST_PARTS + t]; }
  } else {
    for (var i = 0u; i < R; i++) {
      let t = g.w - rbf_center(i);
      gd += grad_rbf[s * R + i] * 2.0 * params.rbf_coeff * t * exp(params.rbf_coeff * t * t);
    }
  }
  let S = params.sh_size;
  for (var c = 0u; c < S; c++) { sh_gin[c] = grad_sh_in[s * S + c]; }
  let u = g.xyz / g.w;
  let gu = sh_vjp(u, params.sh_lmax);
  slot_grad[s] = vec4f(grank, gd, 0.0, 0.0);
  slot_gunit[s] = vec4f((gu - dot(gu, u) * u) / g.w, 0.0);
}
