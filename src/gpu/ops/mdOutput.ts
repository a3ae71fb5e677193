// The model's results into the MD engine's force and output buffers (shaders/model/md_output.wgsl).
import mdOutputWgsl from '../../../shaders/model/md_output.wgsl?raw';
import type { GpuRuntime, Operand, Recorder } from '../runtime';

export interface MdOutputArgs {
  numAtoms: number;
  /** Slot budget K, reported beside the graph's health. */
  slots: number;
  energyScale: number;
  /** energy = energyScale·E_raw + energyOffset (shift + element references). */
  energyOffset: number;
  virial: boolean;
  energyRaw: Operand;
  gradPositions: GPUBuffer;
  strain: GPUBuffer;
  /** The graph build's status words (shaders/graph/envelope.wgsl graph_stats). */
  graphStatus: GPUBuffer;
  /** The engine's N×vec4 forces and 16-float output (src/md/forceProvider.ts). */
  forces: GPUBuffer;
  output: GPUBuffer;
  /**
   * The graph's health words, sticky across steps and across re-recordings of the program (one 16-byte
   * buffer per run, made once by the caller: a fresh buffer starts at zero, WebGPU zero-initialises).
   */
  health: GPUBuffer;
}

export function recordMdOutput(rt: GpuRuntime, rec: Recorder, a: MdOutputArgs): void {
  const kernel = rt.kernel({ label: 'model.md_output', code: mdOutputWgsl, entryPoint: 'md_output' });
  const params = {
    n_atoms: a.numAtoms, has_virial: a.virial ? 1 : 0, k_slots: a.slots, energy_scale: a.energyScale, energy_offset: a.energyOffset,
  };
  rec.dispatch(kernel, {
    grad_pos: a.gradPositions, forces: a.forces, e_raw: a.energyRaw, strain: a.strain, status: a.graphStatus, health: a.health, out: a.output,
  }, params, Math.max(1, Math.ceil(a.numAtoms / 64)));
}
