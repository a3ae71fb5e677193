// Bussi–Donadio–Parrinello stochastic velocity rescaling (J. Chem. Phys. 126, 014101 (2007), eq. A7):
// one thread turns the kinetic energy into the scale factor; kinetic.wgsl applies it.

@compute @workgroup_size(1)
fn bussi_factor() {
  let ke = ctl.ke;
  if (ke <= 0.0) { ctl.scale = 1.0; return; }
  let nf = P.nf;
  let target_ke = 0.5 * nf * P.kT;
  var c = 0.0;
  if (P.tau_t > 0.0) { c = exp(-P.dt / P.tau_t); }
  let key = seed_key(P);
  let r1 = gaussian4(vec4<u32>(0u, ctl.step, STREAM_BUSSI, 0u), key).x;
  var s = 0.0;
  if (nf > 1.0) { s = 2.0 * gamma_deviate(0.5 * (nf - 1.0), key, ctl.step, STREAM_BUSSI); }
  let f = target_ke / (nf * ke);
  let a2 = c + (1.0 - c) * f * (r1 * r1 + s) + 2.0 * r1 * sqrt(c * (1.0 - c) * f);
  var sgn = 1.0;
  if (r1 + sqrt(c * nf * ke / ((1.0 - c) * target_ke)) < 0.0) { sgn = -1.0; }
  ctl.scale = sgn * sqrt(max(a2, 0.0));
}
