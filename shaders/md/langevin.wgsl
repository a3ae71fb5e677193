// Langevin dynamics in BAOAB splitting (Leimkuhler & Matthews, AMRX 2013): this kernel does B, A, O, A;
// verlet.wgsl's `kick` does the final B after the forces. Noise: Philox keyed by (atom, step, stream).

@compute @workgroup_size(64)
fn baoa(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  let im = inv_mass[i];
  var v = vel[i].xyz + (0.5 * P.dt * im) * frc[i].xyz;
  var x = pos[i].xyz + (0.5 * P.dt) * v;
  let c1 = exp(-P.friction * P.dt);
  let c2 = sqrt(1.0 - c1 * c1);
  let g = gaussian4(vec4<u32>(i, ctl.step, STREAM_LANGEVIN, 0u), seed_key(P));
  let vn = c1 * v + (c2 * sqrt(P.kT * im)) * g.xyz;
  // Heat given to the bath, so that E_pot + E_kin + Σ heat is conserved on average.
  let heat = vel[i].w - 0.5 * (dot(vn, vn) - dot(v, v)) / im;
  x = x + (0.5 * P.dt) * vn;
  vel[i] = vec4<f32>(vn, heat);
  pos[i] = vec4<f32>(x, 0.0);
}
