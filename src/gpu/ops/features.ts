// Geometric features of the graph slots on the GPU (spec §1.3): Gaussian RBF, the e3nn SH table
// (input SH, BOO and LAE all read it), bond-orientational order per atom, with their backward
// into per-slot gradients for src/gpu/ops/graph.ts. (ERoPE pair geometry lives in the
// node-attention kernels, shaders/node_attention/.)
// Mirrors src/cpu/features.ts.
import featCommonWgsl from '../../../shaders/features/common.wgsl?raw';
import shWgsl from '../../../shaders/features/sh.wgsl?raw';
import edgeFeaturesWgsl from '../../../shaders/features/edge_features.wgsl?raw';
import featuresBackwardWgsl from '../../../shaders/features/features_backward.wgsl?raw';
import type { ArchitectureConfig } from '../../model/config';
import { featureShDegree, rbfCenters } from '../../model/architecture';
import { UNUSED, type GpuRuntime, type Operand, type Recorder } from '../runtime';
import type { GpuGraph } from './graph';

const WG = 64;
/** Highest SH degree the WGSL supports (SH_LCAP in shaders/features/sh.wgsl). */
export const MAX_SH_DEGREE = 11;

const code = {
  forward: `${featCommonWgsl}\n${shWgsl}\n${edgeFeaturesWgsl}`,
  backward: `${featCommonWgsl}\n${shWgsl}\n${featuresBackwardWgsl}`,
};

/** Device functions sh_eval / sh_vjp (private arrays sh_val / sh_gin). */
export const sphericalHarmonicsWgsl = shWgsl;

export type FeatureSettings = Pick<ArchitectureConfig,
  'cutoff' | 'knn_k' | 'rbf_size' | 'sh_lmax' | 'boo_lmax' | 'use_lae' | 'lae_frequency_list' | 'boo_envelope_weighted'>;

export interface GpuFeatures {
  /** Degree of the per-slot SH table: max(sh_lmax, boo_lmax, LAE degree). */
  lmax: number;
  shSize: number;
  rbfSize: number;
  booLmax: number;
  /** (N·K)×rbf_size (see GpuFeaturesWithoutRbf for options.rbf = false). */
  rbf: GPUBuffer;
  /** (N·K)×shSize, Y_lm of the slot direction (self-loop (1, 0, …), empty slots 0). */
  sh: GPUBuffer;
  /** N×(boo_lmax+1). */
  boo: GPUBuffer;
  /** N×((L+1)² + L+2): per-atom means of Ŷ, Σ_m mean² and the weight sum (slot count for the plain mean), for the backward pass. */
  booCache: GPUBuffer;
  /** BOO is the envelope-weighted mean (architecture.boo_envelope_weighted). */
  booWeighted: boolean;
  params: Record<string, number>;
}

export function featureParams(g: GpuGraph, arch: FeatureSettings): Record<string, number> {
  const lmax = featureShDegree(arch as ArchitectureConfig);
  if (lmax > MAX_SH_DEGREE) throw new RangeError(`SH degree ${lmax} exceeds the WGSL kernels' maximum ${MAX_SH_DEGREE}`);
  if (!(arch.rbf_size >= 2)) throw new RangeError(`rbf_size must be ≥ 2 (got ${arch.rbf_size})`);
  const { coeff } = rbfCenters(arch as ArchitectureConfig);
  return {
    n_atoms: g.numAtoms, k_slots: g.slots, rbf_size: arch.rbf_size, sh_lmax: lmax, sh_size: (lmax + 1) ** 2,
    boo_lmax: arch.boo_lmax, cutoff: arch.cutoff, rbf_coeff: coeff, knn_k: arch.knn_k,
  };
}

const groups = (n: number) => Math.ceil(n / WG);

/** Bytes of the pooled feature buffers (forward and backward) for N atoms and K slots per row. */
export function featureBytes(numAtoms: number, slots: number, arch: FeatureSettings): Record<string, number> {
  const lmax = featureShDegree(arch as ArchitectureConfig);
  const S = numAtoms * slots, L = arch.boo_lmax;
  return {
    rbf: S * arch.rbf_size * 4, // only when materialised (recordEdgeFeatures options.rbf)
    sh: S * (lmax + 1) ** 2 * 4,
    boo: numAtoms * (L + 1) * 4, booCache: numAtoms * ((L + 1) ** 2 + L + 2) * 4,
    slotGrad: S * 16, slotGunit: S * 16,
  };
}

/** Features without the RBF table: a consumer evaluates the RBF from slotGeom itself. */
export type GpuFeaturesWithoutRbf = Omit<GpuFeatures, 'rbf'> & { rbf: null };

/** Queue RBF + SH per slot and BOO per atom (after recordGraphBuild); options.rbf = false skips the RBF table. */
export function recordEdgeFeatures(rt: GpuRuntime, rec: Recorder, g: GpuGraph, arch: FeatureSettings, options?: { rbf?: true }): GpuFeatures;
export function recordEdgeFeatures(rt: GpuRuntime, rec: Recorder, g: GpuGraph, arch: FeatureSettings, options: { rbf: false }): GpuFeaturesWithoutRbf;
export function recordEdgeFeatures(
  rt: GpuRuntime, rec: Recorder, g: GpuGraph, arch: FeatureSettings, options: { rbf?: boolean },
): GpuFeatures | GpuFeaturesWithoutRbf;
export function recordEdgeFeatures(
  rt: GpuRuntime, rec: Recorder, g: GpuGraph, arch: FeatureSettings, options: { rbf?: boolean } = {},
): GpuFeatures | GpuFeaturesWithoutRbf {
  const writeRbf = options.rbf ?? true;
  const p = featureParams(g, arch);
  const S = g.numAtoms * g.slots;
  const L = arch.boo_lmax;
  const bytes = featureBytes(g.numAtoms, g.slots, arch);
  const f: GpuFeatures | GpuFeaturesWithoutRbf = {
    lmax: p.sh_lmax, shSize: p.sh_size, rbfSize: arch.rbf_size, booLmax: L, params: p, booWeighted: arch.boo_envelope_weighted,
    rbf: writeRbf ? rt.buffer('features.rbf', bytes.rbf) : null,
    sh: rt.buffer('features.sh', bytes.sh),
    boo: rt.buffer('features.boo', bytes.boo),
    booCache: rt.buffer('features.booCache', bytes.booCache),
  };
  const k = (entryPoint: string, constants?: Record<string, number>) =>
    rt.kernel({ label: 'features.forward', code: code.forward, entryPoint, constants });
  rec.dispatch(k('edge_features', { WRITE_RBF: writeRbf ? 1 : 0 }),
    { slot_meta: g.slotMeta, slot_geom: g.slotGeom, rbf: f.rbf ?? UNUSED, sh: f.sh }, p, groups(S));
  rec.dispatch(k('boo_features', { BOO_WEIGHTED: f.booWeighted ? 1 : 0 }),
    { counts: g.counts, sh_in: f.sh, boo: f.boo, boo_cache: f.booCache, slot_env: g.slotEnv }, p, groups(g.numAtoms));
  return f;
}

export interface FeatureGradients {
  /** ∂E/∂(key bias) per slot (N·K), src layout (the dst attention's share mapped through rev); the weighted BOO's share is ADDED IN PLACE. */
  gradBias: Operand;
  /** ∂E/∂RBF per slot, (N·K)×rbf_size; or, with gradIsDistance, ∂E/∂d per slot as distanceParts partial sums ((N·K)×parts). */
  gradRbf: Operand;
  gradIsDistance?: boolean;
  /** Partial sums per slot with gradIsDistance (default 1). */
  distanceParts?: number;
  /** ∂E/∂Y per slot, (N·K)×shSize; the BOO share is ADDED IN PLACE. */
  gradSh: Operand;
  /** ∂E/∂BOO per atom, N×(boo_lmax+1). */
  gradBoo: Operand;
}

/** Queue the feature backward: per-slot (∂E/∂rank, ∂E/∂d) and the u-part of ∂E/∂disp for recordGraphBackward. */
export function recordFeaturesBackward(
  rt: GpuRuntime, rec: Recorder, g: GpuGraph, f: GpuFeatures | GpuFeaturesWithoutRbf, grads: FeatureGradients,
): { slotGrad: GPUBuffer; slotGunit: GPUBuffer } {
  const S = g.numAtoms * g.slots;
  const p = f.params;
  const slotGrad = rt.buffer('features.slotGrad', S * 16);   // = featureBytes().slotGrad
  const slotGunit = rt.buffer('features.slotGunit', S * 16);
  const k = (entryPoint: string, constants?: Record<string, number>) =>
    rt.kernel({ label: 'features.backward', code: code.backward, entryPoint, constants });
  // with the weighted BOO mean this also adds the weights' share to grads.gradBias, before slot_backward reads it
  rec.dispatch(k('boo_backward', { BOO_WEIGHTED: f.booWeighted ? 1 : 0 }), {
    slot_meta: g.slotMeta, counts: g.counts, grad_boo: grads.gradBoo, boo_cache: f.booCache, grad_sh: grads.gradSh,
    slot_env: g.slotEnv, sh_tab: f.sh, grad_bias: grads.gradBias,
  }, p, groups(S));
  rec.dispatch(k('slot_backward', { GRAD_IS_DIST: grads.gradIsDistance ? 1 : 0, DIST_PARTS: grads.distanceParts ?? 1 }), {
    slot_meta: g.slotMeta, slot_geom: g.slotGeom, slot_env: g.slotEnv, grad_bias: grads.gradBias, grad_rbf: grads.gradRbf,
    grad_sh_in: grads.gradSh, slot_grad: slotGrad, slot_gunit: slotGunit,
  }, p, groups(S));
  return { slotGrad, slotGunit };
}
