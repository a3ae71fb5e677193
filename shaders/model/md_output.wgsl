// The model's results into the MD engine's buffers (src/md/forceProvider.ts layouts), so a GPU-resident
// provider never reads back. One entry point, md_output, one invocation per atom:
//   forces[i] = (−energy_scale·∂E_raw/∂pos_i, 0), and in invocation 0 (one pass instead of two):
//              out[0] = energy_scale·E_raw + energy_offset; out[1..9] virial W = −energy_scale·sym(strain),
//              out[10] = 1 when computed; graph health since the run started (sticky, so a sample taken
//              every n steps still sees a step in between): out[11] most edges of any atom, out[12] steps
//              whose graph overflowed the slot budget, out[13] the budget K

struct Params {
  n_atoms: u32,
  has_virial: u32,
  k_slots: u32,
  energy_scale: f32,
  energy_offset: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad_pos: array<f32>;
@group(0) @binding(2) var<storage, read_write> forces: array<vec4f>;
@group(0) @binding(3) var<storage, read> e_raw: array<f32>;
@group(0) @binding(4) var<storage, read> strain: array<f32>;
@group(0) @binding(5) var<storage, read> status: array<u32>;
@group(0) @binding(6) var<storage, read_write> health: array<u32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn md_output(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < params.n_atoms) {
    let s = -params.energy_scale;
    forces[i] = vec4f(s * grad_pos[3u * i], s * grad_pos[3u * i + 1u], s * grad_pos[3u * i + 2u], 0.0);
  }
  if (i == 0u) { md_energy(); }
}

fn md_energy() {
  out[0] = params.energy_scale * e_raw[0] + params.energy_offset;
  for (var i = 0u; i < 3u; i++) {
    for (var j = 0u; j < 3u; j++) {
      let w = -params.energy_scale * 0.5 * (strain[3u * i + j] + strain[3u * j + i]);
      out[1u + 3u * i + j] = select(0.0, w, params.has_virial == 1u);
    }
  }
  out[10] = select(0.0, 1.0, params.has_virial == 1u);
  // status (shaders/graph/envelope.wgsl graph_stats): [0] most edges of a row, [5] rows over the budget
  health[0] = max(health[0], status[0]);
  health[1] = health[1] + select(0u, 1u, status[5] > 0u);
  out[11] = f32(health[0]);
  out[12] = f32(health[1]);
  out[13] = f32(params.k_slots);
}
