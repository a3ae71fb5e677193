// FIRE minimisation (Bitzek et al., PRL 97, 170201 (2006)): a reduction of P = F·v, |v|², |F|² that also updates
// the FIRE time step and mixing (one workgroup, deterministic), then a per-atom velocity mix + Euler move with a
// per-atom displacement cap. Constants as in src/md/cpuEngine.ts.
// Watchdog: see integrator_bindings.wgsl.

var<workgroup> part: array<vec3<f32>, 256>;

@compute @workgroup_size(256)
fn fire_update(@builtin(local_invocation_index) lid: u32) {
  var s = vec3<f32>(0.0);
  for (var i = lid; i < P.n; i += 256u) {
    let v = vel[i].xyz; let f = frc[i].xyz;
    s += vec3<f32>(dot(f, v), dot(v, v), dot(f, f));
  }
  part[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { part[lid] += part[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t = part[0];
    ctl.fire_p = t.x;
    if (t.x > 0.0) {
      let a = ctl.fire_alpha;
      ctl.fire_keep = 1.0 - a;
      ctl.fire_mix = select(0.0, a * sqrt(t.y) / sqrt(t.z), t.z > 0.0);
      if (ctl.fire_npos > 5u) {
        ctl.fire_dt = min(ctl.fire_dt * 1.1, P.fire_dt_max);
        ctl.fire_alpha = a * 0.99;
      }
      ctl.fire_npos += 1u;
    } else {
      ctl.fire_keep = 0.0; ctl.fire_mix = 0.0;
      ctl.fire_alpha = 0.1; ctl.fire_dt = ctl.fire_dt * 0.5; ctl.fire_npos = 0u;
    }
  }
}

@compute @workgroup_size(64)
fn fire_move(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  let f = frc[i].xyz;
  let dt = ctl.fire_dt;
  var v = ctl.fire_keep * vel[i].xyz + ctl.fire_mix * f;
  v = v + (dt * inv_mass[i]) * f;
  var dx = dt * v;
  let d = length(dx);
  if (d > P.fire_max_step) { dx = dx * (P.fire_max_step / d); }
  vel[i] = vec4<f32>(v, vel[i].w);
  let x = pos[i].xyz + dx;
  pos[i] = vec4<f32>(x, 0.0);
  // Forces here are those of the previous step's positions: a fault is reported one step late.
  if (!all(abs(x) <= vec3<f32>(3.0e38)) || !all(abs(f) <= vec3<f32>(3.0e38)) || !(dot(f, f) <= P.max_force * P.max_force)) {
    if (atomicAdd(&watch[0], 1u) == 0u) {
      atomicStore(&watch[1], ctl.step);
      atomicStore(&watch[2], i);
    }
  }
}
