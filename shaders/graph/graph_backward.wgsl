// Backward of the graph geometry down to ∂E/∂positions and the strain sum (needs common.wgsl
// prepended). Input per slot: slot_grad = (∂E/∂rank of the slot's candidate, direct ∂E/∂d)
// and slot_gunit = the part of ∂E/∂disp that comes through u = disp/d (written by
// features/features_backward.wgsl). Every sum is a gather in a fixed order: no float atomics.

@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> cand_geom: array<vec4f>;
@group(0) @binding(3) var<storage, read> cand_slot: array<i32>;
@group(0) @binding(4) var<storage, read> slot_grad: array<vec4f>;
@group(0) @binding(5) var<storage, read> slot_gunit: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> cand_gdisp: array<vec4f>;
@group(0) @binding(7) var<storage, read> cand_gdisp_in: array<vec4f>;
@group(0) @binding(8) var<storage, read> inv: array<u32>;
@group(0) @binding(9) var<storage, read_write> grad_pos: array<f32>;     // N×3, ∂E/∂pos
@group(0) @binding(10) var<storage, read_write> strain_part: array<f32>; // N×9, per-row Σ disp ⊗ ∂E/∂disp
@group(0) @binding(11) var<storage, read> extra: array<f32>;             // N×12: (∂E/∂pos, strain) from elsewhere (ERoPE)
@group(0) @binding(12) var<storage, read> strain_part_in: array<f32>;
@group(0) @binding(13) var<storage, read_write> strain: array<f32>;      // 9

override HAS_EXTRA: bool = false;

fn rank_grad(a: u32, j: u32) -> f32 {
  let sj = cand_slot[a * params.kc + j];
  return select(0.0, slot_grad[a * params.k_slots + u32(max(sj, 0))].x, sj >= 0);
}

/** ∂E/∂disp per candidate: through the soft ranks of its row, the envelope distance, RBF and u. */
@compute @workgroup_size(WG)
fn candidate_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  let i = c - a * params.kc;
  let count = counts[4u * a];
  if (i >= count) { return; }
  let g = cand_geom[c];
  if (g.w == 0.0) { cand_gdisp[c] = vec4f(0.0); return; }
  let si = cand_slot[c];
  var gd = 0.0;
  var gu = vec3f(0.0);
  if (si >= 0) {
    let s = a * params.k_slots + u32(si);
    gd = slot_grad[s].y;
    gu = slot_gunit[s].xyz;
  }
  // rank_j = Σ_k step((d_j − d_k)/s): d_i enters rank_i with +step' and every rank_j with −step'.
  let gri = rank_grad(a, i);
  let base = a * params.kc;
  var acc = 0.0;
  for (var j = 0u; j < count; j++) {
    let ds = soft_step_derivative((g.w - cand_geom[base + j].w) / params.sigmoid_scale);
    if (ds != 0.0) { acc += (gri - rank_grad(a, j)) * ds; }
  }
  gd += acc / params.sigmoid_scale;
  cand_gdisp[c] = vec4f(gd * g.xyz / g.w + gu, 0.0);
}

/** ∂E/∂pos_a = Σ_{candidates b→a} g − Σ_{candidates a→·} g, and row a's strain sum. */
@compute @workgroup_size(WG)
fn atom_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  let n = params.n_atoms;
  if (a >= n) { return; }
  var gp = vec3f(0.0);
  let o = n + 1u;
  for (var k = inv[a]; k < inv[a + 1u]; k++) { gp += cand_gdisp_in[inv[o + k]].xyz; }
  var s0 = vec3f(0.0);
  var s1 = vec3f(0.0);
  var s2 = vec3f(0.0);
  let base = a * params.kc;
  for (var i = 0u; i < counts[4u * a]; i++) {
    let g = cand_gdisp_in[base + i].xyz;
    let d = cand_geom[base + i].xyz;
    gp -= g;
    s0 += d.x * g;
    s1 += d.y * g;
    s2 += d.z * g;
  }
  if (HAS_EXTRA) {
    gp += vec3f(extra[12u * a], extra[12u * a + 1u], extra[12u * a + 2u]);
    s0 += vec3f(extra[12u * a + 3u], extra[12u * a + 4u], extra[12u * a + 5u]);
    s1 += vec3f(extra[12u * a + 6u], extra[12u * a + 7u], extra[12u * a + 8u]);
    s2 += vec3f(extra[12u * a + 9u], extra[12u * a + 10u], extra[12u * a + 11u]);
  }
  grad_pos[3u * a] = gp.x;
  grad_pos[3u * a + 1u] = gp.y;
  grad_pos[3u * a + 2u] = gp.z;
  for (var q = 0u; q < 3u; q++) {
    strain_part[9u * a + q] = s0[q];
    strain_part[9u * a + 3u + q] = s1[q];
    strain_part[9u * a + 6u + q] = s2[q];
  }
}

var<workgroup> red: array<array<f32, 9>, 256>;

/** strain[3p + q] = Σ_a strain_part[a]: one workgroup, fixed summation tree. */
@compute @workgroup_size(256)
fn strain_reduce(@builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  var s: array<f32, 9>;
  for (var a = t; a < params.n_atoms; a += 256u) {
    for (var q = 0u; q < 9u; q++) { s[q] += strain_part_in[9u * a + q]; }
  }
  red[t] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (t < w) {
      for (var q = 0u; q < 9u; q++) { red[t][q] += red[t + w][q]; }
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    for (var q = 0u; q < 9u; q++) { strain[q] = red[0][q]; }
  }
}
