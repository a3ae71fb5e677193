// Exact-erf GELU for WGSL, which has no erf. Φ(x) comes from a Chebyshev-fitted erfc whose
// fractional error is below 1.2e-7 for all z ≥ 0 (Numerical Recipes §6.2 form), and the
// x < 0 branch uses erfc directly, so GELU keeps float32 relative accuracy in the tail
// where 1 + erf(x) would cancel. Included (string-concatenated) by kernels that fuse GELU.

fn erfc_nonneg(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
          t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}

/** Standard normal CDF Φ(x) = erfc(-x/√2)/2. */
fn normal_cdf(x: f32) -> f32 {
  let z = x * 0.70710678118654752;
  if (z < 0.0) { return 0.5 * erfc_nonneg(-z); }
  return 1.0 - 0.5 * erfc_nonneg(z);
}

fn gelu(x: f32) -> f32 { return x * normal_cdf(x); }

/** d GELU/dx = Φ(x) + x·φ(x). */
fn gelu_grad(x: f32) -> f32 {
  return normal_cdf(x) + x * 0.39894228040143268 * exp(-0.5 * x * x);
}
