// Velocity Verlet (NVE): half kick + drift, then (after the forces) the second half kick.
// Velocities are Å/fs; inv_mass holds 1/(m·C) so that a = F·inv_mass in Å/fs²; vel.w accumulates thermostat heat.

@compute @workgroup_size(64)
fn kick_drift(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  var v = vel[i];
  v = vec4<f32>(v.xyz + (0.5 * P.dt * inv_mass[i]) * frc[i].xyz, v.w);
  vel[i] = v;
  pos[i] = vec4<f32>(pos[i].xyz + P.dt * v.xyz, 0.0);
}

fn finite3(a: vec3<f32>) -> bool {
  // NaN fails every comparison; ±Inf fails the bound.
  return all(abs(a) <= vec3<f32>(3.0e38));
}

@compute @workgroup_size(64)
fn kick(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  let v = vel[i];
  let f = frc[i].xyz;
  let vn = v.xyz + (0.5 * P.dt * inv_mass[i]) * f;
  vel[i] = vec4<f32>(vn, v.w);
  // The step ends here for every ensemble but FIRE: check this atom, remember the first fault for the host.
  if (!finite3(pos[i].xyz) || !finite3(vn) || !finite3(f) || !(dot(f, f) <= P.max_force * P.max_force)) {
    if (atomicAdd(&watch[0], 1u) == 0u) {
      atomicStore(&watch[1], ctl.step);
      atomicStore(&watch[2], i);
    }
  }
}

// The step counter keys the random numbers; one thread advances it after every step.
@compute @workgroup_size(1)
fn advance() {
  ctl.step = ctl.step + 1u;
}
