// Geometric features of the edges and atoms (spec §1.3): Gaussian RBF of the distance, real
// spherical harmonics of the direction (one table per edge serves the input SH, the
// bond-orientational order and the LAE vectors), BOO, and the ERoPE sinc basis; with backward.

import type { ArchitectureConfig } from '../model/config';
import type { NeighborGraph } from './graph';
import { SphericalHarmonics } from './sphericalHarmonics';
import { featureShDegree, rbfCenters } from '../model/architecture';

export interface EdgeFeatures {
  /** Degree of the per-edge SH table. */
  lmax: number;
  shSize: number;
  /** Y_lm(u_e), E×shSize (e3nn convention, component normalisation). */
  sh: Float64Array;
  /** Gaussian RBF of the edge length, E×rbf_size. */
  rbf: Float64Array;
  rbfCenters: Float64Array;
  rbfCoeff: number;
  /** Bond-orientational order per atom, N×(boo_lmax+1). */
  boo: Float64Array;
  /** Per atom and degree: the clamped Σ_m mean², for the backward pass. */
  booSumSq: Float64Array;
  /** Mean of Ŷ_lm over each atom's valid slots, N×(boo_lmax+1)² (envelope-weighted with boo_envelope_weighted). */
  booMean: Float64Array;
  /** boo_envelope_weighted: each edge's weight w = exp(−x²/(1−x²)) (E) and each atom's Σw (N); else null. */
  booWeights: Float64Array | null;
  booWeightSum: Float64Array | null;
}

/**
 * Envelope weight of an edge for the weighted BOO mean: exp of the attention key bias −x²/(1−x²), 1 at the
 * self slot (x = 0) and 0 with every derivative at x → 1, so an edge entering or leaving moves nothing.
 */
export function booEnvelopeWeight(x: number): number {
  return Math.exp((-x * x) / (1 - x * x));
}

export function computeEdgeFeatures(graph: NeighborGraph, arch: ArchitectureConfig): EdgeFeatures {
  const E = graph.edgeEnv.length;
  const n = graph.numAtoms;
  const lmax = featureShDegree(arch);
  const shTable = new SphericalHarmonics(lmax);
  const shSize = shTable.size;
  const sh = new Float64Array(E * shSize);
  const row = new Float64Array(shSize);
  for (let e = 0; e < E; e++) {
    shTable.evaluate(graph.edgeUnit[3 * e], graph.edgeUnit[3 * e + 1], graph.edgeUnit[3 * e + 2], row);
    sh.set(row, e * shSize);
  }
  const { centers, coeff } = rbfCenters(arch);
  const R = arch.rbf_size;
  const rbf = new Float64Array(E * R);
  for (let e = 0; e < E; e++) {
    const d = graph.edgeDist[e];
    for (let i = 0; i < R; i++) rbf[e * R + i] = Math.exp(coeff * (d - centers[i]) ** 2);
  }
  // BOO_l = sqrt(max(Σ_m (mean_slots Ŷ_lm)², 1e-6)), Ŷ = Y/√(2l+1), the self slot included; the mean is
  // plain (reference) or weighted by the envelope, Σ_s w_s Ŷ_s / Σ_s w_s (Σ_s w_s ≥ 1: the self slot has w = 1).
  const L = arch.boo_lmax;
  const nb = (L + 1) * (L + 1);
  const boo = new Float64Array(n * (L + 1));
  const booSumSq = new Float64Array(n * (L + 1));
  const booMean = new Float64Array(n * nb);
  const weighted = arch.boo_envelope_weighted;
  const booWeights = weighted ? new Float64Array(E) : null;
  const booWeightSum = weighted ? new Float64Array(n) : null;
  for (let a = 0; a < n; a++) {
    const e0 = graph.edgeRowStart[a], e1 = graph.edgeRowStart[a + 1];
    let inv = 1 / Math.max(e1 - e0, 1);
    if (booWeights && booWeightSum) {
      let W = 0;
      for (let e = e0; e < e1; e++) W += (booWeights[e] = booEnvelopeWeight(graph.edgeEnv[e]));
      booWeightSum[a] = W;
      inv = 1 / W;
    }
    for (let e = e0; e < e1; e++)
      for (let l = 0; l <= L; l++) {
        const sc = (booWeights ? booWeights[e] * inv : inv) / Math.sqrt(2 * l + 1);
        for (let c = l * l; c < (l + 1) * (l + 1); c++) booMean[a * nb + c] += sh[e * shSize + c] * sc;
      }
    for (let l = 0; l <= L; l++) {
      let ss = 0;
      for (let c = l * l; c < (l + 1) * (l + 1); c++) ss += booMean[a * nb + c] ** 2;
      booSumSq[a * (L + 1) + l] = ss;
      boo[a * (L + 1) + l] = Math.sqrt(Math.max(ss, 1e-6));
    }
  }
  return { lmax, shSize, sh, rbf, rbfCenters: centers, rbfCoeff: coeff, boo, booSumSq, booMean, booWeights, booWeightSum };
}

/**
 * Accumulates ∂E/∂Y_lm(u_e) into gradSh (E×shSize) from ∂E/∂BOO (N×(boo_lmax+1)); with the envelope-weighted
 * mean also ∂E/∂(key bias) into gradKeyBias (E), since w_e = exp(bias_e) depends on the edge's geometry too.
 */
export function booBackward(
  graph: NeighborGraph, arch: ArchitectureConfig, f: EdgeFeatures, gradBoo: Float64Array, gradSh: Float64Array,
  gradKeyBias: Float64Array,
): void {
  const L = arch.boo_lmax;
  const nb = (L + 1) * (L + 1);
  const w = f.booWeights, W = f.booWeightSum;
  const gm = new Float64Array(nb);
  for (let a = 0; a < graph.numAtoms; a++) {
    const e0 = graph.edgeRowStart[a], e1 = graph.edgeRowStart[a + 1];
    const inv = w && W ? 1 / W[a] : 1 / Math.max(e1 - e0, 1);
    // gm_c = ∂E/∂mean_c = ∂E/∂BOO_l · mean_c / BOO_l (zero where the clamp holds BOO_l at 1e-3)
    gm.fill(0);
    let any = false;
    for (let l = 0; l <= L; l++) {
      const ss = f.booSumSq[a * (L + 1) + l];
      if (!(ss > 1e-6)) continue; // clamp: zero gradient below
      const g = gradBoo[a * (L + 1) + l] / Math.sqrt(ss);
      if (g === 0) continue;
      for (let c = l * l; c < (l + 1) * (l + 1); c++) gm[c] = g * f.booMean[a * nb + c];
      any = true;
    }
    if (!any) continue;
    for (let e = e0; e < e1; e++) {
      // mean = Σ_e w_e Ŷ_e / W: ∂mean/∂Ŷ_e = w_e/W, ∂mean/∂w_e = (Ŷ_e − mean)/W (plain mean: w_e = 1, fixed)
      const we = w ? w[e] : 1;
      let gw = 0;
      for (let l = 0; l <= L; l++) {
        const norm = Math.sqrt(2 * l + 1);
        const sc = (w ? we * inv : inv) / norm;
        for (let c = l * l; c < (l + 1) * (l + 1); c++) {
          if (gm[c] === 0) continue;
          gradSh[e * f.shSize + c] += gm[c] * sc;
          if (w) gw += gm[c] * (f.sh[e * f.shSize + c] / norm - f.booMean[a * nb + c]);
        }
      }
      if (w) gradKeyBias[e] += gw * inv * we; // ∂w/∂bias = w
    }
  }
}

/** ∂E/∂d per edge from ∂E/∂RBF (E×R). */
export function rbfBackward(graph: NeighborGraph, f: EdgeFeatures, gradRbf: Float64Array, R: number): Float64Array {
  const E = graph.edgeEnv.length;
  const gd = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    const d = graph.edgeDist[e];
    let s = 0;
    for (let i = 0; i < R; i++) {
      const diff = d - f.rbfCenters[i];
      s += gradRbf[e * R + i] * 2 * f.rbfCoeff * diff * f.rbf[e * R + i];
    }
    gd[e] = s;
  }
  return gd;
}

/** ∂E/∂u per edge (E×3) from ∂E/∂Y (E×shSize), recomputing the SH gradients edge by edge. */
export function shBackward(graph: NeighborGraph, f: EdgeFeatures, gradSh: Float64Array): Float64Array {
  const E = graph.edgeEnv.length;
  const table = new SphericalHarmonics(f.lmax);
  const val = new Float64Array(f.shSize);
  const grad = new Float64Array(f.shSize * 3);
  const gu = new Float64Array(E * 3);
  for (let e = 0; e < E; e++) {
    if (graph.edgeDist[e] === 0) continue;
    table.evaluate(graph.edgeUnit[3 * e], graph.edgeUnit[3 * e + 1], graph.edgeUnit[3 * e + 2], val, 0, grad);
    let gx = 0, gy = 0, gz = 0;
    for (let c = 0; c < f.shSize; c++) {
      const g = gradSh[e * f.shSize + c];
      if (g === 0) continue;
      gx += g * grad[3 * c]; gy += g * grad[3 * c + 1]; gz += g * grad[3 * c + 2];
    }
    gu[3 * e] = gx; gu[3 * e + 1] = gy; gu[3 * e + 2] = gz;
  }
  return gu;
}

// ---- ERoPE: sinc basis of pair distances -------------------------------------------------

/** sin(x)/x with the reference's Taylor branch below 1e-4, and its derivative. */
export function sinc(x: number): number {
  if (Math.abs(x) < 1e-4) { const x2 = x * x; return 1 - x2 / 6 + (x2 * x2) / 120; }
  return Math.sin(x) / x;
}
export function sincDerivative(x: number): number {
  if (Math.abs(x) < 1e-4) return -x / 3 + (x * x * x) / 30;
  return (x * Math.cos(x) - Math.sin(x)) / (x * x);
}

