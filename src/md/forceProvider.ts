// One interface for everything that turns positions into energy, forces and virial.
//
// CPU providers work on float64 host arrays. GPU providers work on the engine's GPU-resident buffers and
// record their work into the engine's command encoder, so nothing is read back per step. A GPU provider that
// needs host work between submissions (the CPU adapter below, or a runtime that builds neighbour lists on the
// host) sets `resident = false` and implements `evaluate()`; the engine then submits, awaits it, and goes on.
//
// Buffer layouts shared with the engine (all f32):
//   positions, forces : N × vec4<f32> (x, y, z, unused), Å and eV/Å
//   box               : 16 f32: cell rows a, b, c (9), volume (Å³), periodic flag (1 = periodic), reserved
//   output            : 16 f32: [0] potential energy (eV), [1..9] virial W (eV, row-major, W = −V·stress,
//                       so P = (2 E_kin + tr W)/(3V)), [10] 1 when a virial was computed, [11..15] the
//                       provider's own health words (GpuForceProvider.describeOutput)

import type { Pbc } from '../io/structure';
import { cellVolume } from '../geometry/cell';

export interface ForceResult {
  energy: number;
  /** N×3, eV/Å. */
  forces: Float64Array;
  /** Virial W, 3×3 row-major, eV (W = −V·stress); null when not computed. */
  virial: Float64Array | null;
}

export interface CpuForceProvider {
  readonly kind: 'cpu';
  readonly name: string;
  compute(positions: Float64Array, cell: Float64Array | null, pbc: Pbc, wantVirial: boolean): ForceResult;
}

/** The engine's GPU buffers a provider reads and writes. */
export interface GpuForceTarget {
  device: GPUDevice;
  numAtoms: number;
  numbers: Int32Array;
  pbc: Pbc;
  positions: GPUBuffer;
  forces: GPUBuffer;
  box: GPUBuffer;
  output: GPUBuffer;
}

export interface GpuForceProvider {
  readonly kind: 'gpu';
  readonly name: string;
  /** true: encode() records all work on the GPU; false: the engine must await evaluate() between submissions. */
  readonly resident: boolean;
  /** Bind to the engine's buffers (once, before the first step). */
  attach(target: GpuForceTarget): Promise<void>;
  /** Optional: refuse a starting cell the kernels cannot handle, with a clear message (called before attach). */
  checkSystem?(cell: Float64Array | null, pbc: Pbc): void;
  /** Record the force computation (resident providers). */
  encode(encoder: GPUCommandEncoder): void;
  /** Optional: record it inside the engine's open compute pass instead (saves two pass switches per step). */
  encodeInPass?(pass: GPUComputePassEncoder): void;
  /**
   * Optional: a resident provider's own health words in the output buffer ([11..15]), read with every sample;
   * a message here stops the run like the engine's own watchdog.
   */
  describeOutput?(output: Float32Array): string | null;
  /**
   * Optional: the engine changed the box on the GPU (a Monte Carlo barostat trial, or its rejection) and has
   * submitted everything before; a provider that keeps the cell on the host (in uniforms) refreshes it here.
   */
  syncBox?(): Promise<void>;
  /** Compute after all earlier submitted work finished (non-resident providers). */
  evaluate(): Promise<void>;
  /** Frees what the provider holds; the GPU engine it was given to calls this from its own destroy(). */
  destroy(): void;
}

export type ForceProvider = CpuForceProvider | GpuForceProvider;

export const BOX_FLOATS = 16;
export const OUTPUT_FLOATS = 16;

export function boxData(cell: Float64Array | null, pbc: Pbc): Float32Array<ArrayBuffer> {
  const b = new Float32Array(BOX_FLOATS);
  const periodic = cell !== null && pbc.every(Boolean);
  if (cell) for (let i = 0; i < 9; i++) b[i] = cell[i];
  b[9] = cell ? cellVolume(cell) : 0;
  b[10] = periodic ? 1 : 0;
  return b;
}

/**
 * Lets a CPU provider drive the GPU integrator: downloads positions and box, computes in float64 on the host,
 * uploads forces, energy and virial. One readback per force call, so it suits the CPU AllScAIP runtime, not speed.
 */
export class CpuProviderOnGpu implements GpuForceProvider {
  readonly kind = 'gpu';
  readonly resident = false;
  readonly name: string;
  private target: GpuForceTarget | null = null;
  private staging: GPUBuffer | null = null;

  constructor(private readonly cpu: CpuForceProvider, private readonly wantVirial = true) {
    this.name = `${cpu.name} (CPU, via host round trip)`;
  }

  async attach(target: GpuForceTarget): Promise<void> {
    this.target = target;
    this.staging = createHostStaging(target, 'cpu-provider.staging');
  }

  encode(): void {
    throw new Error(`${this.name} is not GPU-resident: the engine must call evaluate()`);
  }

  async evaluate(): Promise<void> {
    const t = this.target!;
    const { positions, cell, periodic } = await readHostState(t, this.staging!);
    writeHostResult(t, this.cpu.compute(positions, cell, t.pbc, this.wantVirial && periodic));
  }

  destroy(): void {
    this.staging?.destroy();
  }
}

/** A staging buffer for readHostState (N positions + the box). */
export function createHostStaging(t: GpuForceTarget, label: string): GPUBuffer {
  return t.device.createBuffer({ label, size: t.numAtoms * 16 + BOX_FLOATS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
}

/** Download the engine's positions (N×3, Å) and box for a provider that computes on the host. */
export async function readHostState(
  t: GpuForceTarget, staging: GPUBuffer,
): Promise<{ positions: Float64Array; cell: Float64Array | null; volume: number; periodic: boolean }> {
  const n = t.numAtoms;
  const enc = t.device.createCommandEncoder({ label: 'host-provider.read' });
  enc.copyBufferToBuffer(t.positions, 0, staging, 0, n * 16);
  enc.copyBufferToBuffer(t.box, 0, staging, n * 16, BOX_FLOATS * 4);
  t.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const raw = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  const positions = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) positions[3 * i + k] = raw[4 * i + k];
  const box = raw.subarray(4 * n, 4 * n + BOX_FLOATS);
  const cell = box[9] > 0 ? Float64Array.from(box.subarray(0, 9)) : null;
  return { positions, cell, volume: box[9], periodic: box[10] === 1 };
}

/** Upload forces, energy and virial computed on the host into the engine's buffers. */
export function writeHostResult(t: GpuForceTarget, r: ForceResult): void {
  const n = t.numAtoms;
  const f = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) f[4 * i + k] = r.forces[3 * i + k];
  const out = new Float32Array(OUTPUT_FLOATS);
  out[0] = r.energy;
  if (r.virial) { for (let k = 0; k < 9; k++) out[1 + k] = r.virial[k]; out[10] = 1; }
  t.device.queue.writeBuffer(t.forces, 0, f);
  t.device.queue.writeBuffer(t.output, 0, out);
}
