// Shared set-up for the MD tests: a WebGPU device (SwiftShader in CI) and small argon systems.
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { installNodeGpu } from '../../src/md/nodeGpu';
import { ARGON, type LjParams } from '../../src/md/lj';
import { fccLattice, systemFromStructure } from '../../src/md/setup';
import type { MdSystem } from '../../src/md/types';

export async function mdDevice(): Promise<GpuContext> {
  await installNodeGpu();
  return acquireDevice();
}

/** Argon fcc crystal of 4k³ atoms at lattice constant a (Å), Maxwell–Boltzmann velocities at T. */
export function argon(k: number, a: number, temperature: number, seed = 7): MdSystem {
  return systemFromStructure(fccLattice(18, k, a), { temperature, seed });
}

export function argonLj(cutoff: number, shift = true, tailCorrection = false): LjParams {
  return { species: { 18: ARGON }, cutoff, shift, tailCorrection };
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

export function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return s / a.length;
}
