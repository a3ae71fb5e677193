// Building an MdSystem from a Structure: masses, molecules, initial velocities and a safe default time step.
import { cellFrame, displacement, imageShift } from '../geometry/cell';
import type { Structure } from '../io/structure';
import type { ModelConfig } from '../model/config';
import { assertSystemSupported, type SystemCheckOptions, type SystemProblem } from '../model/systemCheck';
import { atomicMass, covalentRadius } from '../io/elements';
import { gaussian4, seedKey, STREAM } from './rng';
import { AMU_A2_FS2_TO_EV, KB, kineticEnergy } from './units';
import type { MdSystem } from './types';

/**
 * Molecules as connected components of the covalent bond graph (bond if r < 1.2·(R_i + R_j), minimum image
 * along periodic axes), so the barostat moves molecule centres and never stretches bonds.
 */
export function findMolecules(s: Structure): Int32Array {
  const n = s.numbers.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
  const frame = cellFrame(s.cell, s.pbc);
  const rad = Array.from(s.numbers, (z) => covalentRadius(z));
  const p = s.positions;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const d = displacement(p, i, j, frame);
    const rmax = 1.2 * (rad[i] + rad[j]);
    if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < rmax * rmax) parent[root(i)] = root(j);
  }
  const label = new Map<number, number>();
  const mol = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = root(i);
    if (!label.has(r)) label.set(r, label.size);
    mol[i] = label.get(r)!;
  }
  return mol;
}

/**
 * Make every molecule whole (atoms placed at the minimum image of the first atom of their molecule, following
 * bonds), so that the engine, which never wraps, sees unbroken molecules.
 */
export function unwrapMolecules(s: Structure, molecules: Int32Array): Float64Array {
  const pos = Float64Array.from(s.positions);
  const frame = cellFrame(s.cell, s.pbc);
  if (!frame) return pos;
  const first = new Map<number, number>();
  const v = frame.vectors;
  for (let i = 0; i < molecules.length; i++) {
    const m = molecules[i];
    if (!first.has(m)) { first.set(m, i); continue; }
    const a = first.get(m)!;
    const dx = pos[3 * i] - pos[3 * a], dy = pos[3 * i + 1] - pos[3 * a + 1], dz = pos[3 * i + 2] - pos[3 * a + 2];
    for (let axis = 0; axis < 3; axis++) {
      const n = imageShift(frame, dx, dy, dz, axis);
      if (n !== 0) for (let k = 0; k < 3; k++) pos[3 * i + k] -= n * v[3 * axis + k];
    }
  }
  return pos;
}

/** Maxwell–Boltzmann velocities (Å/fs) at temperature T, total momentum zero; `exact` rescales to T exactly. */
export function maxwellBoltzmann(masses: Float64Array, temperature: number, seed: number, exact = false): Float64Array {
  const n = masses.length;
  const v = new Float64Array(3 * n);
  const key = seedKey(seed);
  const g = new Float64Array(4);
  for (let i = 0; i < n; i++) {
    gaussian4(key, i, 0, STREAM.velocities, 0, g);
    const s = Math.sqrt((KB * temperature) / (masses[i] * AMU_A2_FS2_TO_EV));
    for (let k = 0; k < 3; k++) v[3 * i + k] = s * g[k];
  }
  removeMomentum(masses, v);
  if (exact && n > 1 && temperature > 0) {
    const t = (2 * kineticEnergy(masses, v)) / ((3 * n - 3) * KB);
    const f = Math.sqrt(temperature / t);
    for (let k = 0; k < v.length; k++) v[k] *= f;
  }
  return v;
}

export function removeMomentum(masses: Float64Array, v: Float64Array): void {
  const n = masses.length;
  let mt = 0;
  const p = [0, 0, 0];
  for (let i = 0; i < n; i++) { mt += masses[i]; for (let k = 0; k < 3; k++) p[k] += masses[i] * v[3 * i + k]; }
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) v[3 * i + k] -= p[k] / mt;
}

/** Default time step by element: 0.5 fs with hydrogen, 1 fs with other light atoms (< 20 amu), else 2 fs. */
export function defaultTimeStep(numbers: Int32Array): number {
  let minMass = Infinity;
  for (const z of numbers) {
    if (z === 1) return 0.5;
    minMass = Math.min(minMass, atomicMass(z));
  }
  return minMass < 20 ? 1 : 2;
}

export interface SystemOptions {
  temperature?: number;
  seed?: number;
  /** Use the structure's `velocities` (ASE units, Å per ASE time) or `momenta` array if present; default true. */
  useFileVelocities?: boolean;
}

/** ASE stores velocities in Å per ASE time unit (√(amu·Å²/eV)); 1 ASE time unit = 10.1805 fs. */
export const ASE_TIME_FS = 1e15 * Math.sqrt(1.6605390666e-27 * 1e-20 / 1.602176634e-19);

export function systemFromStructure(s: Structure, opts: SystemOptions = {}): MdSystem {
  const n = s.numbers.length;
  if (n === 0) throw new Error('the structure has no atoms');
  const masses = Float64Array.from(s.numbers, (z) => atomicMass(z));
  const molecules = findMolecules(s);
  const positions = unwrapMolecules(s, molecules);
  let velocities: Float64Array;
  const fileV = s.arrays?.velocities ?? s.arrays?.momenta;
  if ((opts.useFileVelocities ?? true) && fileV instanceof Float64Array && fileV.length === 3 * n) {
    velocities = new Float64Array(3 * n);
    const isMomenta = !s.arrays?.velocities;
    for (let i = 0; i < 3 * n; i++) velocities[i] = fileV[i] / ASE_TIME_FS / (isMomenta ? masses[Math.floor(i / 3)] : 1);
  } else {
    velocities = maxwellBoltzmann(masses, opts.temperature ?? 0, opts.seed ?? 1);
  }
  return {
    numbers: Int32Array.from(s.numbers), masses, positions, velocities,
    cell: s.cell ? Float64Array.from(s.cell) : null, pbc: [...s.pbc] as MdSystem['pbc'], molecules,
  };
}

/**
 * The MD engine set-up for a model (the workbench worker's path): refuses what the model cannot compute
 * (UnsupportedSystemError: untrained elements unless allowed, charge/spin, a cell too small for the cutoff)
 * before any system is built, and returns the warnings with the system. Atoms too close are a warning here
 * unless `closeAtoms: 'error'`: the workbench shows the pair and lets the user decide.
 */
export function systemForModel(
  s: Structure, config: ModelConfig, opts: SystemOptions & SystemCheckOptions = {},
): { system: MdSystem; warnings: SystemProblem[] } {
  const warnings = assertSystemSupported(s, config, { closeAtoms: 'warning', ...opts });
  return { system: systemFromStructure(s, opts), warnings };
}

/** A face-centred-cubic lattice of k×k×k unit cells (4k³ atoms) of element Z at lattice constant a (Å). */
export function fccLattice(z: number, k: number, a: number): Structure {
  const basis = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];
  const pos: number[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let l = 0; l < k; l++) {
    for (const b of basis) pos.push((i + b[0] + 0.25) * a, (j + b[1] + 0.25) * a, (l + b[2] + 0.25) * a);
  }
  const L = k * a;
  return {
    numbers: new Int32Array(pos.length / 3).fill(z), positions: Float64Array.from(pos),
    cell: Float64Array.of(L, 0, 0, 0, L, 0, 0, 0, L), pbc: [true, true, true], charge: 0, spin: 1,
  };
}
