// Kinetic energy as one deterministic single-workgroup reduction (same summation order every run, so runs
// and resumed runs agree bit for bit), and the global velocity scaling used by Bussi and Nosé–Hoover.

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn kinetic_energy(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < P.n; i += 256u) {
    let v = vel[i].xyz;
    s += dot(v, v) / inv_mass[i];
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { partial[lid] += partial[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { ctl.ke = 0.5 * partial[0]; }
}

@compute @workgroup_size(64)
fn scale_velocities(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  let s = ctl.scale;
  let v = vel[i];
  let ke = 0.5 * dot(v.xyz, v.xyz) / inv_mass[i];
  vel[i] = vec4<f32>(s * v.xyz, v.w - (s * s - 1.0) * ke);
}
