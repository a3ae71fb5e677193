// Real spherical harmonics in e3nn's convention (component normalisation, Y_00 = 1; e3nn's y
// is the polar axis, components m = −l..l at l² + l + m), as device functions for any kernel.
// In the frame (X, Y, Z) = (z, x, y): Y_lm = N_lm Q_lm(Z) C_m(X, Y) (m > 0), N_l0 Q_l0(Z),
// N_lm Q_lm(Z) S_m(X, Y) (m < 0), with Q_lm = d^m P_l / dZ^m and C_m + i S_m = (X + iY)^m.
// Q_lm comes from the stable upward recurrence (l − m) Q_lm = (2l − 1) Z Q_{l−1,m}
// − (l + m − 1) Q_{l−2,m}, Q_mm = (2m − 1)!!, and ∂Q_lm/∂Z = Q_{l,m+1}; the gradient is that of
// the same polynomial form as src/cpu/sphericalHarmonics.ts (callers project it onto the sphere).

const SH_LCAP: u32 = 11u;
const SH_CAP: u32 = 144u;   // (SH_LCAP + 1)²

var<private> sh_val: array<f32, SH_CAP>;   // sh_eval output
var<private> sh_gin: array<f32, SH_CAP>;   // sh_vjp input: ∂E/∂Y

/** sqrt((2l+1)(l−m)!/(l+m)!), times √2 for m > 0. */
fn sh_norm(l: u32, m: u32) -> f32 {
  var q = f32(2u * l + 1u);
  for (var k = l - m + 1u; k <= l + m; k++) { q /= f32(k); }
  return select(sqrt(q), sqrt(2.0 * q), m > 0u);
}

/**
 * With vjp = false: Y(u) for a unit vector u into sh_val[0 .. (lmax+1)²) (the zero vector gives
 * (1, 0, …)), returns 0. With vjp = true: returns Σ_c sh_gin[c] ∂Y_c/∂u and writes nothing.
 */
fn sh_core(u: vec3f, lmax: u32, vjp: bool) -> vec3f {
  var g = vec3f(0.0);
  if (all(u == vec3f(0.0))) {
    if (!vjp) {
      for (var c = 0u; c < (lmax + 1u) * (lmax + 1u); c++) { sh_val[c] = 0.0; }
      sh_val[0] = 1.0;
    }
    return g;
  }
  let X = u.z;
  let Y = u.x;
  let Z = u.y;
  var cm = 1.0;      // C_m
  var sm = 0.0;      // S_m
  var cp = 0.0;      // C_{m−1}
  var sp = 0.0;      // S_{m−1}
  var qmm = 1.0;     // (2m − 1)!!
  for (var m = 0u; m <= lmax; m++) {
    var qa0 = 0.0;   // column m at l − 2
    var qa1 = qmm;   // column m at l − 1 (at l = m: Q_mm)
    var qb0 = 0.0;   // column m + 1
    var qb1 = 0.0;
    let fm = f32(m);
    for (var l = m; l <= lmax; l++) {
      let fl = f32(l);
      if (l > m) {
        let q = ((2.0 * fl - 1.0) * Z * qa1 - (fl + fm - 1.0) * qa0) / (fl - fm);
        qa0 = qa1;
        qa1 = q;
      }
      if (l == m + 1u) {
        qb1 = qmm * (2.0 * fm + 1.0);
      } else if (l > m + 1u) {
        let q = ((2.0 * fl - 1.0) * Z * qb1 - (fl + fm) * qb0) / (fl - fm - 1.0);
        qb0 = qb1;
        qb1 = q;
      }
      let nrm = sh_norm(l, m);
      let Q = nrm * qa1;
      let dQ = nrm * qb1;   // zero while l = m
      let mid = l * l + l;
      if (m == 0u) {
        if (vjp) { g += sh_gin[mid] * vec3f(0.0, dQ, 0.0); } else { sh_val[mid] = Q; }
      } else {
        if (vjp) {
          // ∂C_m/∂X = m C_{m−1}, ∂C_m/∂Y = −m S_{m−1}, ∂S_m/∂X = m S_{m−1}, ∂S_m/∂Y = m C_{m−1};
          // stored as (∂x, ∂y, ∂z) = (∂Y, ∂Z, ∂X).
          g += sh_gin[mid + m] * vec3f(-Q * fm * sp, dQ * cm, Q * fm * cp);
          g += sh_gin[mid - m] * vec3f(Q * fm * cp, dQ * sm, Q * fm * sp);
        } else {
          sh_val[mid + m] = Q * cm;
          sh_val[mid - m] = Q * sm;
        }
      }
    }
    // advance to m + 1
    cp = cm;
    sp = sm;
    cm = cp * X - sp * Y;
    sm = cp * Y + sp * X;
    qmm *= 2.0 * fm + 1.0;
  }
  return g;
}

fn sh_eval(u: vec3f, lmax: u32) { _ = sh_core(u, lmax, false); }
fn sh_vjp(u: vec3f, lmax: u32) -> vec3f { return sh_core(u, lmax, true); }
