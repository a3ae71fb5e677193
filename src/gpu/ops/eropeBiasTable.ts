// The ERoPE bias of node attention as a table in r, read by shaders/node_attention/common.wgsl `table_bias`.
// bias_h(r) = log(softplus(Σ_f W_hf sinc(ω_f r)) + 1e-6) and ∂bias_h/∂r at knots r_k = k·step, in float64 with
// the CPU runtime's own functions, interpolated on the GPU by cubic Hermite. Why: computed per pair, the bias
// costs num_freq (16–32) sin/cos per pair, several times the attention's own 4·H flops per pair; the table
// costs two knot reads per head. The interpolant is C¹ and the backward uses its exact derivative, so the
// forces stay −dE/dx of the energy the forward computes. Past the last knot the kernels compute the bias
// directly (the interpolant meets it there with value and slope).
import { sinc, sincDerivative } from '../../cpu/features';
import { softplus, softplusDerivative } from '../../cpu/nodeAttention';

/**
 * Knot spacing (Å). The error of cubic Hermite is ≤ step⁴·max|f⁗|/384 in value and ~step³·max|f⁗|/(8√3) in
 * slope; f's derivatives scale with ω_max⁴·|W| and every released configuration has ω_max = π/0.25 Å⁻¹, so
 * step·ω_max = 0.025 gives ~1e-9·|W| in the bias and ~1e-6·|W| in its slope (measured: test/gpu/eropeBiasTable.test.ts).
 */
export const BIAS_TABLE_STEP = 1 / 512;
/** Range of the table (Å): beyond the minimum-image distances of boxes up to ~70 Å and most molecules. */
export const BIAS_TABLE_RANGE = 64;

export interface BiasTable {
  /**
   * Per interval k (knots k, k+1) and head h at [4·(k·numHeads + h)]: (f_k, f_{k+1} − f_k, f'_k, f'_{k+1}),
   * float32 as the GPU reads it. The difference is stored, not f_{k+1}: the interpolant's slope divides it by
   * the step, and f_{k+1} − f_k formed from two rounded values would carry their rounding (|f| up to ~14)
   * times 1/step = 512 into the forces.
   */
  values: Float32Array;
  knots: number;
  step: number;
  numHeads: number;
}

/** The table for one layer's ERoPE weights W (numHeads × numFreq, row-major) and frequencies ω (Å⁻¹). */
export function eropeBiasTable(omega: ArrayLike<number>, radialWeight: ArrayLike<number>, numHeads: number): BiasTable {
  const nf = omega.length, step = BIAS_TABLE_STEP;
  const knots = Math.round(BIAS_TABLE_RANGE / step) + 1;
  const bias = new Float64Array(knots * numHeads), dbias = new Float64Array(knots * numHeads);
  const basis = new Float64Array(nf), slope = new Float64Array(nf);
  for (let k = 0; k < knots; k++) {
    const r = k * step;
    for (let f = 0; f < nf; f++) { basis[f] = sinc(omega[f] * r); slope[f] = omega[f] * sincDerivative(omega[f] * r); }
    for (let h = 0; h < numHeads; h++) {
      let z = 0, dz = 0;
      for (let f = 0; f < nf; f++) { z += radialWeight[h * nf + f] * basis[f]; dz += radialWeight[h * nf + f] * slope[f]; }
      const sp = softplus(z) + 1e-6;
      bias[k * numHeads + h] = Math.log(sp);
      dbias[k * numHeads + h] = (softplusDerivative(z) / sp) * dz;
    }
  }
  const values = new Float32Array(4 * (knots - 1) * numHeads);
  for (let i = 0; i < (knots - 1) * numHeads; i++) {
    values.set([bias[i], bias[i + numHeads] - bias[i], dbias[i], dbias[i + numHeads]], 4 * i);
  }
  return { values, knots, step, numHeads };
}

/** What `table_bias` computes, in float64 from the float32 table: for tests and error bounds; null past the table. */
export function interpolateBias(t: BiasTable, h: number, r: number): { bias: number; dbias: number } | null {
  const x = r / t.step;
  if (x >= t.knots - 1) return null;
  const k = Math.floor(x), u = x - k, u2 = u * u, u3 = u2 * u;
  const a = 4 * (k * t.numHeads + h);
  const [f0, df, s0, s1] = [t.values[a], t.values[a + 1], t.values[a + 2], t.values[a + 3]];
  return {
    bias: f0 + (3 * u2 - 2 * u3) * df + ((u3 - 2 * u2 + u) * s0 + (u3 - u2) * s1) * t.step,
    dbias: ((6 * u - 6 * u2) * df) / t.step + (3 * u2 - 4 * u + 1) * s0 + (3 * u2 - 2 * u) * s1,
  };
}

/** The exact bias and slope of head h at r in float64 (the CPU runtime's function). */
export function exactBias(omega: ArrayLike<number>, radialWeight: ArrayLike<number>, h: number, r: number): { bias: number; dbias: number } {
  let z = 0, dz = 0;
  for (let f = 0; f < omega.length; f++) {
    z += radialWeight[h * omega.length + f] * sinc(omega[f] * r);
    dz += radialWeight[h * omega.length + f] * omega[f] * sincDerivative(omega[f] * r);
  }
  const sp = softplus(z) + 1e-6;
  return { bias: Math.log(sp), dbias: (softplusDerivative(z) / sp) * dz };
}
