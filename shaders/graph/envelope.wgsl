// Envelope and padded slot layout of the soft bi-kNN graph (needs common.wgsl prepended).
// envelope: the destination rank of a→b is the source rank of the reverse candidate b→a
//   (image −m) in row b; x = τ·logsumexp(rank_src/k, rank_dst/k, d/cutoff)/τ), edge iff x < 1,
//   x = 0 for the self-loop. Both directions evaluate the same expression with the two ranks
//   swapped (exactly commutative in float), so the kept set is symmetric bit for bit.
// slot_layout: rank-sorts each row's edges by (x, candidate index); slot 0 is the self-loop.
// reverse_slot: rev(a, r) = global slot of the reverse edge in row b; fills empty slots; writes each slot's
//   key for neighbourhood attention (the slot read in the destination layout and the key bias, in one
//   binding: the attention's backward has no binding to spare for a second array).

@group(0) @binding(1) var<storage, read> cand_meta: array<vec2i>;
@group(0) @binding(2) var<storage, read> cand_geom: array<vec4f>;
@group(0) @binding(3) var<storage, read> cand_rank: array<f32>;
@group(0) @binding(4) var<storage, read_write> cand_env: array<vec4f>;   // (x, w_src, w_dst, w_dist); x = 2: no edge
@group(0) @binding(5) var<storage, read_write> cand_rev: array<i32>;     // reverse candidate, −1: none/self
@group(0) @binding(6) var<storage, read_write> counts: array<u32>;
@group(0) @binding(7) var<storage, read_write> cand_slot: array<i32>;    // slot in own row, −1: no edge
@group(0) @binding(8) var<storage, read_write> slot_meta: array<vec4i>;  // (candidate, neighbor, image, rev slot)
@group(0) @binding(9) var<storage, read_write> slot_geom: array<vec4f>;  // (disp, distance)
@group(0) @binding(10) var<storage, read_write> slot_env: array<vec4f>;  // (x, w_src, w_dst, w_dist)
@group(0) @binding(11) var<storage, read> cand_env_in: array<vec4f>;
@group(0) @binding(12) var<storage, read> cand_rev_in: array<i32>;
@group(0) @binding(13) var<storage, read> cand_slot_in: array<i32>;
// dst_slot: rev slot, or the slot itself when empty; bias: −x²/(1−x²), −inf when empty
struct SlotKey { dst_slot: i32, bias: f32 }
@group(0) @binding(14) var<storage, read_write> slot_key: array<SlotKey>;
@group(0) @binding(15) var<storage, read_write> status: array<u32>;

@compute @workgroup_size(WG)
fn envelope(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  if (c - a * params.kc >= counts[4u * a]) { return; }
  let d = cand_geom[c].w;
  if (d == 0.0) {
    cand_env[c] = vec4f(0.0);
    cand_rev[c] = -1;
    return;
  }
  let b = u32(cand_meta[c].x);
  let want = vec2i(i32(a), i32(params.n_images) - 1 - cand_meta[c].y);
  let nb = counts[4u * b];
  var rev = -1;
  for (var j = 0u; j < nb; j++) {
    let cm = cand_meta[b * params.kc + j];
    if (cm.x == want.x && cm.y == want.y) { rev = i32(b * params.kc + j); break; }
  }
  cand_rev[c] = rev;
  if (rev < 0) { cand_env[c] = vec4f(2.0, 0.0, 0.0, 0.0); return; }   // dst rank = ∞
  let tau = params.lse_scale;
  let z = vec3f(cand_rank[c] / params.knn_k / tau, cand_rank[u32(rev)] / params.knn_k / tau, d / params.cutoff / tau);
  let zmax = max(max(z.x, z.y), z.z);
  let e = exp(z - vec3f(zmax));
  let sum = (e.x + e.y) + e.z;
  let x = tau * (zmax + log(sum));
  cand_env[c] = vec4f(select(2.0, x, x < 1.0), e / sum);
}

@compute @workgroup_size(WG)
fn slot_layout(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  let i = c - a * params.kc;
  let count = counts[4u * a];
  if (i >= count) { return; }
  let base = a * params.kc;
  let xi = cand_env_in[c].x;
  if (xi >= 1.0) { cand_slot[c] = -1; return; }
  var slot = 0u;
  var kept = 0u;
  for (var j = 0u; j < count; j++) {
    let xj = cand_env_in[base + j].x;
    if (xj >= 1.0) { continue; }
    kept += 1u;
    if (xj < xi || (xj == xi && j < i)) { slot += 1u; }
  }
  if (xi == 0.0 && cand_geom[c].w == 0.0) { counts[4u * a + 1u] = kept; }   // the self-loop reports the row
  if (slot >= params.k_slots) { cand_slot[c] = -1; return; }                // overflow: graph_stats tells
  cand_slot[c] = i32(slot);
  let s = a * params.k_slots + slot;
  slot_meta[s] = vec4i(i32(c), cand_meta[c].x, cand_meta[c].y, -1);
  slot_geom[s] = cand_geom[c];
  slot_env[s] = cand_env_in[c];
}

@compute @workgroup_size(WG)
fn reverse_slot(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = flat_id(gid, nwg);
  let a = s / params.k_slots;
  if (a >= params.n_atoms) { return; }
  let r = s - a * params.k_slots;
  if (r >= min(counts[4u * a + 1u], params.k_slots)) {
    slot_meta[s] = vec4i(-1, -1, 0, -1);
    slot_geom[s] = vec4f(0.0);
    slot_env[s] = vec4f(0.0);
    slot_key[s] = SlotKey(i32(s), neg_inf());
    return;
  }
  let sm = slot_meta[s];
  let x = slot_env[s].x;
  var rev = -1;
  if (r == 0u) {
    rev = i32(s);
  } else {
    let rc = cand_rev_in[sm.x];
    let rs = cand_slot_in[u32(rc)];
    if (rs >= 0) { rev = sm.y * i32(params.k_slots) + rs; }
  }
  slot_meta[s] = vec4i(sm.x, sm.y, sm.z, rev);
  slot_key[s] = SlotKey(select(i32(s), rev, sm.x >= 0), -x * x / (1.0 - x * x));
}

var<workgroup> red: array<vec4u, 256>;
var<workgroup> first_overlap: atomic<u32>;
var<workgroup> first_bad: atomic<u32>;

/**
 * One workgroup: status[0] max edges per row, [1] max kept candidates per row, [2] max
 * candidates within reach per row (before truncation), [3] lowest overlapping atom + 1
 * (0: none), [4] its partner, [5] rows whose edges overflow the K slots, [6] lowest atom with
 * a non-finite position + 1 (0: none).
 */
@compute @workgroup_size(256)
fn graph_stats(@builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  if (t == 0u) {
    atomicStore(&first_overlap, 0xffffffffu);
    atomicStore(&first_bad, 0xffffffffu);
  }
  workgroupBarrier();
  var m = vec4u(0u);
  for (var a = t; a < params.n_atoms; a += 256u) {
    let e = counts[4u * a + 1u];
    m = vec4u(max(m.x, e), max(m.y, counts[4u * a]), max(m.z, counts[4u * a + 3u]), m.w + select(0u, 1u, e > params.k_slots));
    let ov = counts[4u * a + 2u];
    if (ov == 0xffffffffu) {
      atomicMin(&first_bad, a);
    } else if (ov != 0u) {
      atomicMin(&first_overlap, a);
    }
  }
  red[t] = m;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (t < w) {
      let o = red[t + w];
      red[t] = vec4u(max(red[t].x, o.x), max(red[t].y, o.y), max(red[t].z, o.z), red[t].w + o.w);
    }
    workgroupBarrier();
  }
  let fo = atomicLoad(&first_overlap);
  let fb = atomicLoad(&first_bad);
  if (t == 0u) {
    status[0] = red[0].x;
    status[1] = red[0].y;
    status[2] = red[0].z;
    if (fo == 0xffffffffu) {
      status[3] = 0u;
      status[4] = 0u;
    } else {
      status[3] = fo + 1u;
      status[4] = counts[4u * fo + 2u] - 1u;
    }
    status[5] = red[0].w;
    status[6] = select(fb + 1u, 0u, fb == 0xffffffffu);
  }
}
