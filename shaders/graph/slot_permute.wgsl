// Permutation between the src and dst slot layouts (needs common.wgsl prepended): row b of the
// dst layout is the reverse edges of row b's src slots, so out[s] = in[rev(s)], row by row of
// `width` floats; empty slots get 0. rev is an involution on the edges, so the same gather is
// also its own backward — no scatter.

@group(0) @binding(1) var<storage, read> slot_meta: array<vec4i>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn permute_slots(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  let w = params.permute_width;
  let s = i / w;
  if (s >= params.n_atoms * params.k_slots) { return; }
  let rev = slot_meta[s].w;
  dst[i] = select(0.0, src[u32(max(rev, 0)) * w + (i - s * w)], rev >= 0);
}
