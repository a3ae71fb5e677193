// Row gather out[r,:] = src[index[r],:] and its scatter-free transpose: each source row sums
// the output-gradient rows that read it, found through an inverse index list (CSR: rows that
// read source j are inv_list[inv_start[j] .. inv_start[j+1])). No float atomics needed.

struct Params {
  rows: u32,    // forward: output rows; backward: source rows
  width: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;         // forward: src; backward: d out
@group(0) @binding(2) var<storage, read> index: array<u32>;       // forward: index; backward: inv_list
@group(0) @binding(3) var<storage, read> inv_start: array<u32>;   // backward only
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // forward: out; backward: d src

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (t >= params.rows * params.width) { return; }
  let r = t / params.width;
  let c = t % params.width;
  out[t] = src[index[r] * params.width + c];
}

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (t >= params.rows * params.width) { return; }
  let j = t / params.width;
  let c = t % params.width;
  var s = 0.0;
  for (var e = inv_start[j]; e < inv_start[j + 1u]; e++) { s += src[index[e] * params.width + c]; }
  out[t] = s;
}
