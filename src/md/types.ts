// Shared shapes of the MD engine: the system it integrates, the run settings, and what it reports.
import type { Pbc } from '../io/structure';
import type { Pull } from './steering';

export type Ensemble = 'nve' | 'nvt-langevin' | 'nvt-bussi' | 'nvt-nhc' | 'npt' | 'minimize';
export const ENSEMBLES: readonly Ensemble[] = ['nve', 'nvt-langevin', 'nvt-bussi', 'nvt-nhc', 'npt', 'minimize'];

/** The dynamical system in float64 host memory (ASE units: Å, Å/fs, amu). */
export interface MdSystem {
  numbers: Int32Array;
  masses: Float64Array;
  positions: Float64Array;
  velocities: Float64Array;
  /** Lattice vectors as rows, 9 numbers, Å; null in vacuum. The GPU engine and LJ need an orthorhombic cell. */
  cell: Float64Array | null;
  pbc: Pbc;
  /** Molecule index of every atom (0..M-1), used by the barostat to scale molecule centres. */
  molecules: Int32Array;
}

export interface MdSettings {
  ensemble: Ensemble;
  /** Time step, fs. */
  dt: number;
  /** Target temperature, K (thermostats, barostat). */
  temperature: number;
  /** Target pressure, bar (npt). */
  pressure: number;
  seed: number;
  /** Langevin friction, 1/fs. */
  friction: number;
  /** Relaxation time of Bussi and Nosé–Hoover thermostats, fs. */
  tauT: number;
  /** Length of the Nosé–Hoover chain (1..8). */
  nhcLength: number;
  /** Steps between Monte Carlo volume moves. */
  barostatInterval: number;
  /** FIRE: largest time step (fs) and largest displacement per step (Å). */
  fireDtMax: number;
  fireMaxStep: number;
  /** Per-step watchdog: a force above this (eV/Å) or a non-finite number is recorded as a fault. */
  maxForce?: number;
}

export const DEFAULT_MAX_FORCE = 100;

export const DEFAULT_SETTINGS: MdSettings = {
  ensemble: 'nve', dt: 1, temperature: 300, pressure: 1, seed: 1,
  friction: 0.002, tauT: 100, nhcLength: 3, barostatInterval: 25, fireDtMax: 10, fireMaxStep: 0.2,
};

export const MAX_NHC = 8;

/** Degrees of freedom for temperature: Langevin also thermalises the centre of mass; the others keep it at zero. */
export function degreesOfFreedom(ensemble: Ensemble, numAtoms: number): number {
  if (ensemble === 'nvt-langevin' || ensemble === 'npt') return 3 * numAtoms;
  return numAtoms > 1 ? 3 * numAtoms - 3 : 3;
}

/** One snapshot of the state, taken every few steps for observables and safety checks. */
export interface Sample {
  step: number;
  /** Simulated time, fs. */
  time: number;
  epot: number;
  ekin: number;
  /** Energy taken out by the thermostat so far plus the chain energy (eV), so epot + ekin + this is conserved. */
  thermostatEnergy: number;
  /** Virial W (eV, 3×3 row-major) with P = (2 E_kin + tr W) / (3 V); null when the provider gives none. */
  virial: Float64Array | null;
  cell: Float64Array | null;
  volume: number;
  positions: Float64Array;
  velocities: Float64Array;
  forces: Float64Array;
  barostatAttempts: number;
  barostatAccepted: number;
  /** First step (1-based, the step that produced it) and atom at which the per-step watchdog saw a fault. */
  fault?: { step: number; atom: number } | null;
  /** A GPU-resident force provider's report that its results since the last sample cannot be trusted. */
  providerFault?: string | null;
  /** Work done on the atoms by the pull tool's springs so far (eV, src/md/steering.ts); E_tot − this is conserved in NVE. */
  pullWork?: number;
}

export type SampleCallback = (s: Sample) => void | 'stop';

export interface RunOptions {
  /** Take a sample every this many steps (and after the last step). */
  sampleEvery: number;
  onSample: SampleCallback;
}

export interface MdEngine {
  readonly backend: 'webgpu' | 'cpu';
  readonly settings: MdSettings;
  readonly numAtoms: number;
  /** Steps done so far (continues across resume). */
  readonly step: number;
  /** Advance nSteps; samples arrive through onSample without stalling the loop; resolves when all are delivered. */
  run(nSteps: number, opts: RunOptions): Promise<void>;
  sample(): Promise<Sample>;
  checkpoint(): Promise<EngineCheckpoint>;
  /** Start, move or end (null) the pull tool's springs (src/md/steering.ts); refused with SteeringError. */
  setPull(pull: Pull | null): void;
  destroy(): void;
}

/** Raw engine state: exactly what is needed to continue bit for bit. */
export interface EngineCheckpoint {
  backend: 'webgpu' | 'cpu';
  step: number;
  settings: MdSettings;
  numbers: number[];
  masses: number[];
  molecules: number[];
  pbc: Pbc;
  /** Named binary blobs (raw bytes of f32/f64/u32 arrays), base64 when serialised. */
  blobs: Record<string, Uint8Array>;
}
