// Linear fit of the conserved energy against time, reported as drift in meV/atom/ps, the number
// users compare potentials and time steps by (the MD engine's least-squares fit). Also returns the line for the plot.

import { linearFit } from '../../md/observables';

export interface DriftFit {
  /** meV per atom per ps. */
  meVPerAtomPs: number;
  slope: number; // eV/ps
  intercept: number; // eV
  points: number;
}

export function fitDrift(time_ps: ArrayLike<number>, energy: ArrayLike<number>, numAtoms: number, from = 0): DriftFit | null {
  const t: number[] = [], e: number[] = [];
  for (let i = from; i < time_ps.length; i++) if (Number.isFinite(energy[i])) { t.push(time_ps[i]); e.push(energy[i]); }
  if (t.length < 3 || numAtoms <= 0 || t[t.length - 1] === t[0]) return null;
  const { slope, intercept } = linearFit(t, e);
  return { slope, intercept, meVPerAtomPs: (slope * 1000) / numAtoms, points: t.length };
}
