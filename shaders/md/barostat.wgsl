// Monte Carlo barostat (Chow & Ferguson 1995; Åqvist et al. 2004, as in OpenMM): an isotropic volume move that
// scales molecule centres of mass (molecules stay rigid), one energy evaluation by any force provider, and a
// Metropolis test on ΔW = ΔU + PΔV − N_mol kT ln(V'/V). The decision stays on the GPU; no readback.
// Random numbers: Philox keyed by (attempt, 0, stream 3): .x draws ΔV, .y the acceptance test.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> pos: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> frc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> inv_mass: array<f32>;
@group(0) @binding(4) var<storage, read_write> ctl: Control;
@group(0) @binding(5) var<storage, read_write> box: array<f32, 16>;
@group(0) @binding(6) var<storage, read_write> out: array<f32, 16>;
// Molecules as CSR: mol[0..n_mol] are offsets into the atom list that follows at mol[n_mol + 1 ..].
@group(0) @binding(7) var<storage, read_write> mol: array<u32>;
@group(0) @binding(8) var<storage, read_write> backup: array<vec4<f32>>;

@compute @workgroup_size(1)
fn mc_propose() {
  let u = philox(vec4<u32>(ctl.mc_attempts, 0u, STREAM_BAROSTAT, 0u), seed_key(P));
  let v0 = box[9];
  let v1 = v0 + ctl.mc_volume_scale * (2.0 * to_uniform(u.x) - 1.0);
  for (var k = 0u; k < 12u; k++) { ctl.mc_old_box[k] = box[k]; ctl.mc_old_out[k] = out[k]; }
  ctl.mc_old_epot = out[0];
  ctl.mc_old_volume = v0;
  if (v1 <= 0.0) { ctl.mc_lambda = 1.0; box[9] = v0; return; }
  let lambda = pow(v1 / v0, 1.0 / 3.0);
  ctl.mc_lambda = lambda;
  for (var k = 0u; k < 9u; k++) { box[k] = box[k] * lambda; }
  box[9] = v1;
}

@compute @workgroup_size(64)
fn mc_scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = gid.x;
  if (m >= P.n_mol) { return; }
  let a0 = mol[m]; let a1 = mol[m + 1u]; let base = P.n_mol + 1u;
  var c = vec3<f32>(0.0); var mt = 0.0;
  for (var k = a0; k < a1; k++) {
    let i = mol[base + k];
    let w = 1.0 / inv_mass[i];
    c += w * pos[i].xyz; mt += w;
  }
  let shift = (ctl.mc_lambda - 1.0) * (c / mt);
  for (var k = a0; k < a1; k++) {
    let i = mol[base + k];
    backup[i] = pos[i];
    backup[P.n + i] = frc[i];
    pos[i] = vec4<f32>(pos[i].xyz + shift, 0.0);
  }
}

@compute @workgroup_size(1)
fn mc_accept() {
  let v0 = ctl.mc_old_volume; let v1 = box[9];
  let u = philox(vec4<u32>(ctl.mc_attempts, 0u, STREAM_BAROSTAT, 0u), seed_key(P));
  var accept = false;
  if (v1 != v0) {
    let dw = (out[0] - ctl.mc_old_epot) + P.pressure * (v1 - v0) - f32(P.n_mol) * P.kT * log(v1 / v0);
    accept = dw <= 0.0 || to_uniform(u.y) < exp(-dw / P.kT);
  }
  if (!accept) {
    for (var k = 0u; k < 12u; k++) { box[k] = ctl.mc_old_box[k]; out[k] = ctl.mc_old_out[k]; }
  }
  ctl.mc_accept = select(0u, 1u, accept);
  ctl.mc_attempts += 1u; ctl.mc_win_att += 1u;
  if (accept) { ctl.mc_accepted += 1u; ctl.mc_win_acc += 1u; }
  if (ctl.mc_win_att >= 10u) {
    let r = f32(ctl.mc_win_acc); let t = f32(ctl.mc_win_att);
    if (r < 0.25 * t) { ctl.mc_volume_scale = ctl.mc_volume_scale / 1.1; }
    else if (r > 0.75 * t) { ctl.mc_volume_scale = min(ctl.mc_volume_scale * 1.1, 0.3 * box[9]); }
    ctl.mc_win_att = 0u; ctl.mc_win_acc = 0u;
  }
}

@compute @workgroup_size(64)
fn mc_restore(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n || ctl.mc_accept == 1u) { return; }
  pos[i] = backup[i];
  frc[i] = backup[P.n + i];
}
