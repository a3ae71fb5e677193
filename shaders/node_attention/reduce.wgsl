// Sums node attention's per-head-group ERoPE partials (from backward_query and backward_key) into
// ∂E/∂positions and the per-atom virial Σ_j disp_ij ⊗ ∂E/∂disp_ij, ADDED to geometry[i] (12 floats)
// so every layer's share collects in one buffer that the caller zeroes once per step.
// One invocation per atom owns its sums (no float atomics).

struct Params { n: u32, num_groups: u32, query_offset: u32, key_offset: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> query_part: array<f32>;   // groups×N×12 from query_offset
@group(0) @binding(2) var<storage, read> key_part: array<f32>;     // groups×N×3 from key_offset
@group(0) @binding(3) var<storage, read_write> geometry: array<f32>; // N×12

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= params.n) { return; }
  var acc: array<f32, 12>;
  for (var h = 0u; h < params.num_groups; h++) {
    let qo = params.query_offset + (h * params.n + i) * 12u;
    for (var c = 0u; c < 12u; c++) { acc[c] += query_part[qo + c]; }
    let ko = params.key_offset + (h * params.n + i) * 3u;
    for (var c = 0u; c < 3u; c++) { acc[c] += key_part[ko + c]; }
  }
  for (var c = 0u; c < 12u; c++) { geometry[i * 12u + c] += acc[c]; }
}
