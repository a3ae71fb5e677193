// Quantities derived from a model's architecture that every runtime (float64 CPU, WebGPU) must agree on.

import type { ArchitectureConfig } from './config';

/** Highest spherical-harmonic degree the edge features need (edge SH, BOO and LAE share one table). */
export function featureShDegree(arch: ArchitectureConfig): number {
  return Math.max(arch.sh_lmax, arch.boo_lmax, arch.use_lae ? arch.lae_frequency_list.length - 1 : 0);
}

/** Gaussian RBF centres 0..cutoff (Å) and the exponent's coefficient (Å⁻²). */
export function rbfCenters(arch: ArchitectureConfig): { centers: Float64Array; coeff: number } {
  const R = arch.rbf_size;
  const centers = new Float64Array(R);
  for (let i = 0; i < R; i++) centers[i] = (arch.cutoff * i) / (R - 1);
  const delta = centers[1] - centers[0];
  // GaussianSmearing with basis_width_scalar 2: exp(−0.5/(2Δ)² · (d − μ)²)
  return { centers, coeff: -0.5 / (2 * delta) ** 2 };
}

/**
 * ERoPE frequencies (Å⁻¹): ω_k = logspace(log10(π/120), log10(π/0.25), n) exactly as torch builds it in float32: start and
 * end rounded to float32, each power taken in double from the nearer end, then rounded.
 */
export function eropeFrequencies(n: number): Float64Array {
  const lo = Math.fround(Math.log10(Math.PI / (4 * 30)));
  const hi = Math.fround(Math.log10(Math.PI / 0.25));
  const step = (hi - lo) / (n - 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const exponent = i < n / 2 ? lo + step * i : hi - step * (n - 1 - i);
    out[i] = Math.fround(Math.pow(10, exponent));
  }
  return out;
}

/** SH degree l of each LAE channel: `lae_frequency_list[l]` channels of degree l, in order. */
export function laeChannelDegrees(frequencyList: number[]): Int32Array {
  const out: number[] = [];
  frequencyList.forEach((count, l) => { for (let i = 0; i < count; i++) out.push(l); });
  return Int32Array.from(out);
}

