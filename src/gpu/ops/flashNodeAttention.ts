// Tiled all-to-all node attention (flash-attention style, optional ERoPE) forward and backward.
import wgsl from '../../../shaders/attention/node.wgsl?raw';
import type { GpuRuntime, Recorder } from '../runtime';
import { MAX_HEAD_DIM } from './edgeRowAttention';

export interface NodeShape {
  atoms: number;
  systems: number;
  heads: number;
  headDim: number;
  /** ERoPE frequencies; 0 = no ERoPE. */
  numFreq: number;
}

/**
 * Atoms must be ordered by system (system b owns atoms sysStart[b] .. sysStart[b+1]); its
 * periodic image translations are images[imageStart[b] .. imageStart[b+1]) (one zero image
 * for a molecule).
 */
export function packSystems(sysStart: ArrayLike<number>, imageStart: ArrayLike<number>): Uint32Array {
  const B = sysStart.length - 1;
  const N = sysStart[B];
  const out = new Uint32Array(N + 2 * (B + 1));
  for (let b = 0; b < B; b++) {
    if (!(sysStart[b + 1] > sysStart[b])) throw new Error(`packSystems: system ${b} has no atoms`);
    if (!(imageStart[b + 1] > imageStart[b])) throw new Error(`packSystems: system ${b} has no image (molecules need the zero image)`);
    for (let i = sysStart[b]; i < sysStart[b + 1]; i++) out[i] = b;
  }
  for (let b = 0; b <= B; b++) {
    out[N + b] = sysStart[b];
    out[N + B + 1 + b] = imageStart[b];
  }
  return out;
}

export interface GeometryOffsets { imagesOffset: number; omegaOffset: number; weightOffset: number }

/** [positions (N×3) | images (M×3) | ω | W (heads × numFreq)] in one float buffer. */
export function packGeometry(
  positions: ArrayLike<number>, images: ArrayLike<number>, omega: ArrayLike<number>, radialWeight: ArrayLike<number>,
): { data: Float32Array; offsets: GeometryOffsets } {
  const imagesOffset = positions.length;
  const omegaOffset = imagesOffset + images.length;
  const weightOffset = omegaOffset + omega.length;
  const data = new Float32Array(weightOffset + radialWeight.length);
  data.set(Array.from(positions), 0);
  data.set(Array.from(images), imagesOffset);
  data.set(Array.from(omega), omegaOffset);
  data.set(Array.from(radialWeight), weightOffset);
  return { data, offsets: { imagesOffset, omegaOffset, weightOffset } };
}

function setup(rt: GpuRuntime, s: NodeShape, offsets: GeometryOffsets, entryPoint: string) {
  if (s.headDim > MAX_HEAD_DIM) throw new Error(`node attention: head dim ${s.headDim} exceeds ${MAX_HEAD_DIM}`);
  const kernel = rt.kernel({ label: 'flash-node-attention', code: wgsl, entryPoint, constants: { EROPE: s.numFreq > 0 ? 1 : 0 } });
  const params = {
    atoms: s.atoms, systems: s.systems, heads: s.heads, head_dim: s.headDim, scale: 1 / Math.sqrt(s.headDim),
    num_freq: s.numFreq, images_offset: offsets.imagesOffset, omega_offset: offsets.omegaOffset, weight_offset: offsets.weightOffset,
  };
  return { kernel, params, workgroups: Math.ceil(s.atoms / 64) * s.heads };
}

/** o = softmax(q·kᵀ/√d [+ ERoPE bias])·v within each system; `stats` (2·N·heads) receives the logsumexp. */
export function flashNodeAttentionForward(
  rt: GpuRuntime, rec: Recorder,
  a: { shape: NodeShape; offsets: GeometryOffsets; qkv: GPUBuffer; systems: GPUBuffer; geom: GPUBuffer; o: GPUBuffer; stats: GPUBuffer },
): void {
  const { kernel, params, workgroups } = setup(rt, a.shape, a.offsets, 'forward');
  rec.dispatch(kernel, { qkv: a.qkv, systems: a.systems, geom: a.geom, o: a.o, stats: a.stats }, params, workgroups);
}

/**
 * Backward from dO: dq (N×H), dkv (N×2H, [dk|dv]); with ERoPE also geomGrad (N×12 per atom:
 * ∂E/∂pos (3) and the strain term Σ disp⊗∂E/∂disp (9, row-major) of the pairs it is the query of),
 * using geomGradHeads (N·heads·12) as scratch.
 */
export function flashNodeAttentionBackward(
  rt: GpuRuntime, rec: Recorder,
  a: {
    shape: NodeShape; offsets: GeometryOffsets; qkv: GPUBuffer; systems: GPUBuffer; geom: GPUBuffer; o: GPUBuffer; stats: GPUBuffer;
    dO: GPUBuffer; dq: GPUBuffer; dkv: GPUBuffer; geomGradHeads: GPUBuffer; geomGrad: GPUBuffer;
  },
): void {
  const common = { qkv: a.qkv, systems: a.systems, geom: a.geom, stats: a.stats, d_o: a.dO, geom_grad: a.geomGradHeads };
  const A = setup(rt, a.shape, a.offsets, 'backward_query');
  rec.dispatch(A.kernel, { ...common, o: a.o, grad: a.dq }, A.params, A.workgroups);
  const B = setup(rt, a.shape, a.offsets, 'backward_key');
  rec.dispatch(B.kernel, { ...common, grad: a.dkv }, B.params, B.workgroups);
  if (a.shape.numFreq > 0) {
    const R = setup(rt, a.shape, a.offsets, 'reduce_geometry');
    rec.dispatch(R.kernel, { geom_grad: a.geomGradHeads, geom_out: a.geomGrad }, R.params, Math.ceil((a.shape.atoms * 12) / 64));
  }
}
