// Messages between the page and the MD worker. The worker owns its own WebGPU device and the engine;
// the page only receives frames (positions + one thermo row) a few times a second, so the viewer and
// the controls never wait on the GPU.

import type { Pbc } from '../../io/structure';
import type { ModelConfig } from '../../model/config';
import type { ThermoRow } from '../../md/observables';
import type { Pull } from '../../md/steering';
import type { SimParams } from '../store';

export interface PlainStructure {
  numbers: Int32Array;
  positions: Float64Array;
  cell: Float64Array | null;
  pbc: Pbc;
  charge: number;
  spin: number;
  /** A trajectory frame's velocities (ASE units) or momenta, which the engine starts from instead of drawing them. */
  arrays?: { velocities?: Float64Array; momenta?: Float64Array };
}

export interface PlainModel {
  config: ModelConfig;
  tensors: { name: string; shape: number[]; data: Float32Array }[];
}

export type ToWorker =
  | { kind: 'init'; preferGpu: boolean }
  | { kind: 'model'; model: PlainModel }
  /**
   * `allowUntrainedElements`: the user's override, checked again by the engine set-up. `id`: the page's number for
   * this system, echoed on what the worker sends about it.
   */
  | { kind: 'system'; id: number; structure: PlainStructure; params: SimParams; allowUntrainedElements: boolean }
  | { kind: 'params'; params: SimParams }
  | { kind: 'run' }
  | { kind: 'pause' }
  | { kind: 'step'; steps: number }
  | { kind: 'minimize'; maxSteps: number; fmax: number }
  /** Drop the system and its engine (the page refused the system for the model now loaded). */
  | { kind: 'unload' }
  /** Start, move (same atoms, new target or stiffness) or end (null) the pull tool's springs; applied at once. */
  | { kind: 'pull'; pull: Pull | null }
  /** Test hook and manual recovery check: destroy the worker's GPU device as a driver reset would. */
  | { kind: 'lose-device' };

export interface FramePayload {
  step: number;
  time_fs: number;
  positions: Float64Array;
  cell: Float64Array | null;
  /** Every sample since the previous frame (the last one is this frame's). */
  thermo: ThermoRow[];
}

// `system` on the messages about a system is the id of the 'system' message it came from (0 before any): the
// worker finishes what is queued for the previous system after the page has moved on, and a frame of it can have the
// same atom count as the new one (continuing a trajectory from another frame), so the page drops it by this id.
export type FromWorker =
  | { kind: 'backend'; backend: 'webgpu' | 'cpu'; detail: string; notice: string | null }
  | { kind: 'ready'; system: number; what: 'engine' | 'system'; detail: string }
  | { kind: 'frame'; system: number; frame: FramePayload; stepsPerSecond: number }
  | { kind: 'state'; system: number; running: boolean; busy: string | null }
  /** The run restarted from `fromStep` (device loss); frames after it will be produced again. */
  | { kind: 'recovered'; system: number; fromStep: number; message: string }
  | { kind: 'error'; message: string; fatal: boolean };
