// Nosé–Hoover chain, half-step propagation of the chain with Suzuki–Yoshida order 4 (Martyna, Tuckerman & Klein,
// Mol. Phys. 87, 1117 (1996)); one thread, writes the velocity scale factor that kinetic.wgsl applies.
// Masses: Q_1 = N_f kT τ², Q_j = kT τ².

fn q_of(j: u32) -> f32 {
  var q = P.kT * P.tau_t * P.tau_t;
  if (j == 0u) { q = q * P.nf; }
  return q;
}

fn force_of(j: u32, k2: f32) -> f32 {
  if (j == 0u) { return (k2 - P.nf * P.kT) / q_of(0u); }
  return (q_of(j - 1u) * ctl.vxi[j - 1u] * ctl.vxi[j - 1u] - P.kT) / q_of(j);
}

@compute @workgroup_size(1)
fn nhc_half_step() {
  let m = P.nhc_len;
  let w1 = 1.0 / (2.0 - pow(2.0, 1.0 / 3.0));
  let weights = array<f32, 3>(w1, 1.0 - 2.0 * w1, w1);
  var scale = 1.0;
  var k2 = 2.0 * ctl.ke;
  for (var s = 0u; s < 3u; s++) {
    let h = weights[s] * 0.5 * P.dt;
    ctl.vxi[m - 1u] += 0.5 * h * force_of(m - 1u, k2);
    for (var jj = i32(m) - 2; jj >= 0; jj--) {
      let j = u32(jj);
      let e = exp(-0.25 * h * ctl.vxi[j + 1u]);
      ctl.vxi[j] = (ctl.vxi[j] * e + 0.5 * h * force_of(j, k2)) * e;
    }
    let f = exp(-h * ctl.vxi[0]);
    scale *= f;
    k2 *= f * f;
    for (var j = 0u; j < m; j++) { ctl.xi[j] += h * ctl.vxi[j]; }
    for (var j = 0u; j + 1u < m; j++) {
      let e = exp(-0.25 * h * ctl.vxi[j + 1u]);
      ctl.vxi[j] = (ctl.vxi[j] * e + 0.5 * h * force_of(j, k2)) * e;
    }
    ctl.vxi[m - 1u] += 0.5 * h * force_of(m - 1u, k2);
  }
  ctl.scale = scale;
}
