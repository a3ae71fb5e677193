// Linear fit of the conserved energy against time, reported as drift in meV/atom/ps, the number
// users compare potentials and time steps by (the MD engine's least-squares fit). Also returns the line for the plot.

import { driftStats } from '../../md/driftReport';
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

export interface DriftReadout extends DriftFit {
  /** |slope|·duration/σ(E_kin) over the samples shown (the mlipaudit NVE criterion; pass ≤ 1). */
  ratio: number;
  /** |slope|·50 ps/σ(E_kin): the same slope extrapolated to the benchmark's 50 ps. */
  ratio50ps: number;
  sigmaEkinMeVPerAtom: number;
}

/** The readout under the energy plot: the drift fit plus the ratio the field judges it by (src/md/driftReport.ts). */
export function driftReadout(time_ps: ArrayLike<number>, conserved: ArrayLike<number>, ekin: ArrayLike<number>,
  numAtoms: number): DriftReadout | null {
  const fit = fitDrift(time_ps, conserved, numAtoms);
  const stats = driftStats(time_ps, conserved, ekin, numAtoms);
  if (!fit || !stats) return null;
  return { ...fit, ratio: stats.mlipaudit_ratio, ratio50ps: stats.mlipaudit_ratio_50ps_extrapolated, sigmaEkinMeVPerAtom: stats.sigma_ekin_meV_atom };
}

/** The ratio as shown: 3 significant digits, '∞' when E_kin does not fluctuate (e.g. a frozen system). */
export function formatRatio(r: number): string {
  return Number.isFinite(r) ? r.toPrecision(3) : '∞';
}
