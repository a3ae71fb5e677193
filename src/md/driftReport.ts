// NVE energy conservation reported the way the field reports it (mlipaudit / ml-peg NVE benchmark), shared by
// `npm run md` and the workbench: linear-fit drift, σ(E_kin), the ratio |slope|·duration/σ(E_kin) (their pass
// line is 1) and the same slope over the benchmark's 50 ps, the scatter of E_tot about the fit, and an
// energy-continuity check of the potential along the trajectory. training/drift_report.py computes the same
// numbers for PyTorch runs.
import { cellFrame, minimumImage, sameCell } from '../geometry/cell';
import { linearFit } from './observables';

/** Length of the mlipaudit / ml-peg NVE benchmark, ps: the extrapolated ratio uses it. */
export const BENCHMARK_PS = 50;

export interface DriftStats {
  /** Slope of a least-squares line through E_tot(t), meV/atom/ps. */
  drift_meV_atom_ps: number;
  /** Standard deviation of the kinetic energy, meV/atom. */
  sigma_ekin_meV_atom: number;
  /** |slope|·duration/σ(E_kin) over the run itself. */
  mlipaudit_ratio: number;
  /** |slope|·50 ps/σ(E_kin): the slope extrapolated to the benchmark's length (not measured over 50 ps). */
  mlipaudit_ratio_50ps_extrapolated: number;
  /** RMS of E_tot about the fitted line, meV/atom: jumps in the surface random-walk here, smooth error scales as dt². */
  rms_etot_about_fit_meV_atom: number;
  duration_ps: number;
  samples: number;
}

/**
 * Drift statistics of a series of samples; time in ps, energies in eV. Null with fewer than 3 finite samples or no
 * time span (nothing to fit).
 */
export function driftStats(time_ps: ArrayLike<number>, etot_eV: ArrayLike<number>, ekin_eV: ArrayLike<number>,
  numAtoms: number): DriftStats | null {
  const t: number[] = [], e: number[] = [], k: number[] = [];
  for (let i = 0; i < time_ps.length; i++) {
    if (Number.isFinite(time_ps[i]) && Number.isFinite(etot_eV[i]) && Number.isFinite(ekin_eV[i])) {
      t.push(time_ps[i]); e.push(etot_eV[i]); k.push(ekin_eV[i]);
    }
  }
  const n = t.length;
  if (n < 3 || numAtoms <= 0) return null;
  const duration = t[n - 1] - t[0];
  if (!(duration > 0)) return null;
  const { slope, intercept } = linearFit(t, e); // eV/ps
  let km = 0;
  for (const x of k) km += x / n;
  let kv = 0, r2 = 0;
  for (let i = 0; i < n; i++) { kv += (k[i] - km) ** 2 / n; r2 += (e[i] - (slope * t[i] + intercept)) ** 2 / n; }
  const sk = Math.sqrt(kv);
  return {
    drift_meV_atom_ps: (slope * 1000) / numAtoms,
    sigma_ekin_meV_atom: (sk * 1000) / numAtoms,
    mlipaudit_ratio: sk > 0 ? (Math.abs(slope) * duration) / sk : Infinity,
    mlipaudit_ratio_50ps_extrapolated: sk > 0 ? (Math.abs(slope) * BENCHMARK_PS) / sk : Infinity,
    rms_etot_about_fit_meV_atom: (Math.sqrt(r2) * 1000) / numAtoms,
    duration_ps: duration,
    samples: n,
  };
}

export interface ContinuityStats {
  /** Largest |ΔE_pot + ½(F_n + F_{n+1})·Δx| over consecutive steps, meV. */
  max_abs_jump_meV: number;
  /** The step (n+1) at which it occurred. */
  max_jump_step: number;
  mean_abs_jump_meV: number;
  /** Consecutive step pairs checked. */
  pairs: number;
}

/**
 * Energy continuity along a trajectory: per step, the change of the potential energy not explained by the work of
 * the forces, ΔE_pot + ½(F_n + F_{n+1})·Δx (trapezoid rule, O(dt³) per step on a smooth surface; a jump of the
 * surface shows up whole). Δx uses the minimum image along periodic axes, so wrapped positions are fine. Only
 * consecutive steps in the same cell are compared (a barostat move or a gap in the samples starts afresh).
 */
export class EnergyContinuity {
  private prev: { step: number; x: Float64Array; f: Float64Array; epot: number; cell: Float64Array | null } | null = null;
  private maxAbs = 0; private maxStep = -1; private sumAbs = 0; private count = 0;

  constructor(readonly pbc: readonly [boolean, boolean, boolean]) {}

  /** State after `step` (positions Å, forces eV/Å, E_pot eV, cell rows Å or null); the arrays are copied. */
  add(step: number, positions: ArrayLike<number>, forces: ArrayLike<number>, epot: number, cell: ArrayLike<number> | null): void {
    const c = cell ? Float64Array.from(cell) : null;
    const p = this.prev;
    if (p && step === p.step + 1 && sameCell(p.cell, c)) {
      const r = this.residual(p.x, p.f, p.epot, positions, forces, epot, c);
      const a = Math.abs(r);
      if (Number.isFinite(a)) {
        this.sumAbs += a; this.count++;
        if (a > this.maxAbs || this.maxStep < 0) { this.maxAbs = a; this.maxStep = step; }
      }
    }
    if (p && p.x.length === positions.length) {
      p.step = step; p.x.set(positions); p.f.set(forces); p.epot = epot; p.cell = c;
    } else {
      this.prev = { step, x: Float64Array.from(positions), f: Float64Array.from(forces), epot, cell: c };
    }
  }

  /** ΔE_pot + ½(F_0 + F_1)·Δx, eV. */
  residual(x0: ArrayLike<number>, f0: ArrayLike<number>, e0: number, x1: ArrayLike<number>, f1: ArrayLike<number>, e1: number,
    cell: Float64Array | null): number {
    const frame = cellFrame(cell, [...this.pbc]);
    let work = 0;
    const d = [0, 0, 0];
    for (let i = 0; i < x0.length; i += 3) {
      for (let k = 0; k < 3; k++) d[k] = x1[i + k] - x0[i + k];
      minimumImage(d, frame);
      for (let k = 0; k < 3; k++) work += 0.5 * (f0[i + k] + f1[i + k]) * d[k];
    }
    return e1 - e0 + work;
  }

  stats(): ContinuityStats | null {
    if (this.count === 0) return null;
    return { max_abs_jump_meV: this.maxAbs * 1000, max_jump_step: this.maxStep, mean_abs_jump_meV: (this.sumAbs / this.count) * 1000, pairs: this.count };
  }
}

/** One line per quantity, for the CLI's NVE summary. */
export function formatDriftReport(d: DriftStats, c: ContinuityStats | null): string {
  const lines = [
    `NVE energy conservation over ${d.duration_ps.toPrecision(4)} ps (${d.samples} samples):`,
    `  drift (linear fit of E_tot)        ${d.drift_meV_atom_ps.toExponential(3)} meV/atom/ps`,
    `  σ(E_kin)                           ${d.sigma_ekin_meV_atom.toPrecision(4)} meV/atom`,
    `  |slope|·duration/σ(E_kin)          ${d.mlipaudit_ratio.toPrecision(3)} (mlipaudit ratio over this run)`,
    `  |slope|·50 ps/σ(E_kin)             ${d.mlipaudit_ratio_50ps_extrapolated.toPrecision(3)} (extrapolated to the 50 ps benchmark; pass ≤ 1)`,
    `  RMS of E_tot about the fit         ${d.rms_etot_about_fit_meV_atom.toExponential(3)} meV/atom`,
  ];
  if (c) {
    lines.push(`  continuity ΔE_pot + ½(F_n+F_n+1)·Δx: max |.| ${c.max_abs_jump_meV.toExponential(3)} meV at step ${c.max_jump_step}, ` +
      `mean |.| ${c.mean_abs_jump_meV.toExponential(3)} meV over ${c.pairs} steps`);
  }
  return lines.join('\n');
}
