// Candidates grouped by neighbor atom (CSR), so ∂E/∂pos_b can gather the candidates a→b of
// other rows without float atomics (needs common.wgsl prepended). Counting and filling use
// integer atomics; each segment is then sorted by candidate index so that every later sum
// runs in a fixed order and results are bit-for-bit reproducible.
// inv[0..N] = segment starts (inv[N] = total), inv[N+1 ..] = candidate indices.

@group(0) @binding(1) var<storage, read> cand_meta: array<vec2i>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> work: array<atomic<u32>>;   // N counts, N cursors
@group(0) @binding(4) var<storage, read_write> inv: array<u32>;

@compute @workgroup_size(WG)
fn inv_count(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  if (c - a * params.kc >= counts[4u * a]) { return; }
  atomicAdd(&work[u32(cand_meta[c].x)], 1u);
}

var<workgroup> partial: array<u32, 256>;

/** Exclusive prefix sum of the counts in one workgroup: 256 contiguous chunks, then their offsets. */
@compute @workgroup_size(256)
fn inv_scan(@builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  let n = params.n_atoms;
  let chunk = (n + 255u) / 256u;
  let lo = min(t * chunk, n);
  let hi = min(lo + chunk, n);
  var s = 0u;
  for (var a = lo; a < hi; a++) { s += atomicLoad(&work[a]); }
  partial[t] = s;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0u;
    for (var i = 0u; i < 256u; i++) { let v = partial[i]; partial[i] = acc; acc += v; }
    inv[n] = acc;
  }
  workgroupBarrier();
  var acc = partial[t];
  for (var a = lo; a < hi; a++) { inv[a] = acc; acc += atomicLoad(&work[a]); }
}

@compute @workgroup_size(WG)
fn inv_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = flat_id(gid, nwg);
  let a = c / params.kc;
  if (a >= params.n_atoms) { return; }
  if (c - a * params.kc >= counts[4u * a]) { return; }
  let b = u32(cand_meta[c].x);
  let k = atomicAdd(&work[params.n_atoms + b], 1u);
  inv[params.n_atoms + 1u + inv[b] + k] = c;
}

@compute @workgroup_size(WG)
fn inv_sort(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = flat_id(gid, nwg);
  if (b >= params.n_atoms) { return; }
  let o = params.n_atoms + 1u;
  let lo = o + inv[b];
  let hi = o + inv[b + 1u];
  for (var i = lo + 1u; i < hi; i++) {
    let v = inv[i];
    var j = i;
    while (j > lo && inv[j - 1u] > v) { inv[j] = inv[j - 1u]; j -= 1u; }
    inv[j] = v;
  }
}
