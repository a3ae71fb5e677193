// Linear fit of the conserved energy against time, reported as drift in meV/atom/ps, the number
// users compare potentials and time steps by. Also returns the fitted line for the plot.

export interface DriftFit {
  /** meV per atom per ps. */
  meVPerAtomPs: number;
  slope: number; // eV/ps
  intercept: number; // eV
  points: number;
}

export function fitDrift(time_ps: ArrayLike<number>, energy: ArrayLike<number>, numAtoms: number, from = 0): DriftFit | null {
  let n = 0, st = 0, se = 0;
  for (let i = from; i < time_ps.length; i++) if (Number.isFinite(energy[i])) { n++; st += time_ps[i]; se += energy[i]; }
  if (n < 3 || numAtoms <= 0) return null;
  const mt = st / n, me = se / n;
  let stt = 0, ste = 0;
  for (let i = from; i < time_ps.length; i++) {
    if (!Number.isFinite(energy[i])) continue;
    const dt = time_ps[i] - mt;
    stt += dt * dt;
    ste += dt * (energy[i] - me);
  }
  if (stt <= 0) return null;
  const slope = ste / stt;
  return { slope, intercept: me - slope * mt, meVPerAtomPs: (slope * 1000) / numAtoms, points: n };
}
