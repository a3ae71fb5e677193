// The workbench's one store (zustand). Large per-frame data (positions, thermo columns) is kept in
// mutable arrays with version counters so the viewer and plots can redraw without copying and
// without re-rendering React on every frame; React components subscribe to the small fields only.

import { create } from 'zustand';
import type { Structure } from '../io/structure';
import type { ThermoRow } from '../md/observables';
import type { ModelConfig } from '../model/config';
import type { ModelSummary } from './model/summary';
import { initialSteering, type SteeringState } from './steering/state';

export type Ensemble = 'nve' | 'nvt-langevin' | 'nvt-bussi' | 'nvt-nhc' | 'npt';
export type ProviderKind = 'allscaip' | 'lj';
export type Backend = 'webgpu' | 'cpu';

export interface SimParams {
  ensemble: Ensemble;
  temperature: number; // K
  pressure: number; // bar
  timestep: number; // fs
  /** null = default by element (≤ 0.5 fs with H). */
  timestepAuto: boolean;
  friction: number; // 1/fs, Langevin
  tau: number; // fs, Bussi / NHC / barostat time constant
  stepsPerFrame: number;
  seed: number;
  provider: ProviderKind;
  backend: Backend;
}

/** Thermo time series, columnar for uPlot, plus the engine's rows (for CSV). All arrays grow together. */
export interface ThermoSeries {
  step: number[];
  time_ps: number[];
  epot: number[]; // eV
  ekin: number[]; // eV
  etot: number[]; // eV, E_pot + E_kin
  /** E_tot plus the thermostat's energy minus the pull's work (eV): what the integrator conserves, and what drift is fitted to. */
  conserved: number[];
  /** Work done by the pull tool so far, eV. */
  pullWork: number[];
  temperature: number[]; // K
  pressure: number[]; // bar (NaN for molecules)
  density: number[]; // g/cm³ (NaN for molecules)
  volume: number[]; // Å³
  rows: ThermoRow[];
}

export function emptyThermo(): ThermoSeries {
  return { step: [], time_ps: [], epot: [], ekin: [], etot: [], conserved: [], pullWork: [], temperature: [], pressure: [], density: [], volume: [], rows: [] };
}

export function appendThermo(t: ThermoSeries, r: ThermoRow): void {
  t.step.push(r.step);
  t.time_ps.push(r.time_ps);
  t.epot.push(r.epot_eV);
  t.ekin.push(r.ekin_eV);
  t.etot.push(r.etot_eV);
  t.conserved.push(r.conserved_eV);
  t.pullWork.push(r.pull_work_eV ?? 0);
  t.temperature.push(r.temperature_K);
  t.pressure.push(r.pressure_bar);
  t.density.push(r.density_g_cm3);
  t.volume.push(r.volume_A3);
  t.rows.push(r);
}

export interface Frame {
  step: number;
  time_fs: number;
  /** Positions as the engine holds them (Å, N×3). */
  positions: Float64Array;
  /** Continuous trajectory (periodic jumps undone since the system was loaded), Å, N×3. */
  unwrapped: Float64Array;
  cell: Float64Array | null;
}

/** A picked-atom measurement the user chose to follow over time. */
export interface TrackedMeasurement {
  id: number;
  atoms: number[];
  label: string;
  time_ps: number[];
  values: number[];
}

export interface Speed {
  stepsPerSecond: number;
  atomStepsPerSecond: number;
  nsPerDay: number;
}

export type Phase = 'idle' | 'loading' | 'ready' | 'error' | 'missing';

export interface Notice {
  id: number;
  level: 'info' | 'warning' | 'error';
  text: string;
}

export interface WorkbenchState {
  backend: Backend | null;
  backendDetail: string;
  /** Which engine and forces run the current system (e.g. "WebGPU engine, AllScAIP forces"). */
  engineDetail: string;
  gpuNotice: string | null;

  modelPhase: Phase;
  modelProgress: number; // 0..1
  modelMessage: string;
  model: ModelSummary | null;
  /** The loaded model's configuration: what systems are checked against (elements, charge/spin, cutoff). */
  modelConfig: ModelConfig | null;
  /** Run structures with elements the model was not trained on (an expert's override; those forces are meaningless). */
  allowUntrainedElements: boolean;
  /** Why the workbench picked the loaded model for the structure opened (null: the user's, a link's or the start-up choice). */
  modelAuto: string | null;
  /** Models listed in public/models/index.json. */
  shippedModels: { dir: string; name: string; description?: string }[];

  system: Structure | null;
  systemName: string;
  /** Last file error, shown next to the system panel; the current system is kept. */
  systemError: string | null;
  /** The current system cannot run with the loaded model (why is in systemError): the engine holds no system. */
  systemBlocked: boolean;
  /** What the user should know about the current system that does not stop it running (e.g. atoms very close). */
  systemWarnings: string[];

  params: SimParams;
  running: boolean;
  busy: string | null; // e.g. "minimizing", "recovering"

  frame: Frame | null;
  frameVersion: number;
  /** Every frame received, for extXYZ export (capped in ui/engine/client.ts). */
  trajectory: Frame[];

  thermo: ThermoSeries;
  thermoVersion: number;
  rdf: { r: number[]; g: number[]; label: string } | null;
  msd: { time_ps: number[]; msd: number[] };

  picks: number[];
  tracked: TrackedMeasurement[];

  view: { wrap: boolean; images: boolean; bonds: boolean };
  /** The pull tool (src/ui/steering): off by default. */
  steering: SteeringState;
  speed: Speed | null;
  notices: Notice[];
  recoveries: number;
}

const defaultParams: SimParams = {
  ensemble: 'nvt-langevin',
  temperature: 300,
  pressure: 1.01325,
  timestep: 0.5,
  timestepAuto: true,
  friction: 0.01,
  tau: 100,
  stepsPerFrame: 5,
  seed: 1,
  provider: 'allscaip',
  backend: 'webgpu',
};

let noticeId = 0;

export const useWorkbench = create<WorkbenchState>(() => ({
  backend: null,
  backendDetail: '',
  engineDetail: '',
  gpuNotice: null,
  modelPhase: 'idle',
  modelProgress: 0,
  modelMessage: '',
  model: null,
  modelConfig: null,
  allowUntrainedElements: false,
  modelAuto: null,
  shippedModels: [],
  system: null,
  systemName: '',
  systemError: null,
  systemBlocked: false,
  systemWarnings: [],
  params: defaultParams,
  running: false,
  busy: null,
  frame: null,
  frameVersion: 0,
  trajectory: [],
  thermo: emptyThermo(),
  thermoVersion: 0,
  rdf: null,
  msd: { time_ps: [], msd: [] },
  picks: [],
  tracked: [],
  view: { wrap: true, images: false, bonds: true },
  steering: initialSteering,
  speed: null,
  notices: [],
  recoveries: 0,
}));

export function notify(level: Notice['level'], text: string): void {
  const n: Notice = { id: ++noticeId, level, text };
  useWorkbench.setState((s) => ({ notices: [...s.notices.slice(-5), n] }));
}

export function dismissNotice(id: number): void {
  useWorkbench.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

export function setParams(p: Partial<SimParams>): void {
  useWorkbench.setState((s) => ({ params: { ...s.params, ...p } }));
}

/** Toggle an atom in the pick list (at most 4; a fifth pick starts a new selection). */
export function togglePick(atom: number): void {
  useWorkbench.setState((s) => {
    if (s.picks.includes(atom)) return { picks: s.picks.filter((a) => a !== atom) };
    if (s.picks.length >= 4) return { picks: [atom] };
    return { picks: [...s.picks, atom] };
  });
}

export function clearPicks(): void {
  useWorkbench.setState({ picks: [] });
}
