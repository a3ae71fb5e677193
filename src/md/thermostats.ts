// Float64 reference math of the global thermostats and the Monte Carlo barostat. The WGSL kernels in
// shaders/md/ implement the same formulas in f32 with the same random-number counters.
import { gammaDeviate, gaussian4, philox4x32, toUniform, STREAM } from './rng';

/**
 * Bussi–Donadio–Parrinello stochastic velocity rescaling (J. Chem. Phys. 126, 014101 (2007), eq. A7):
 * returns α such that v ← α v samples the canonical kinetic-energy distribution with relaxation time τ.
 */
export function bussiAlpha(ekin: number, targetEkin: number, nf: number, dt: number, tau: number,
  key: [number, number], step: number): number {
  if (ekin <= 0) return 1;
  const c = tau > 0 ? Math.exp(-dt / tau) : 0;
  const r1 = gaussian4(key, 0, step, STREAM.bussi, 0)[0];
  const s = nf > 1 ? 2 * gammaDeviate((nf - 1) / 2, key, step, STREAM.bussi) : 0;
  const f = targetEkin / (nf * ekin);
  const a2 = c + (1 - c) * f * (r1 * r1 + s) + 2 * r1 * Math.sqrt(c * (1 - c) * f);
  const sign = r1 + Math.sqrt((c * nf * ekin) / ((1 - c) * targetEkin)) < 0 ? -1 : 1;
  return sign * Math.sqrt(Math.max(a2, 0));
}

/** Nosé–Hoover chain state: thermostat positions ξ_j and velocities v_ξj (1/fs). */
export interface NhcState { xi: Float64Array; vxi: Float64Array }

/** Suzuki–Yoshida fourth-order weights (three stages). */
const W1 = 1 / (2 - Math.cbrt(2));
export const SUZUKI_YOSHIDA = [W1, 1 - 2 * W1, W1];

export function nhcMasses(nf: number, kT: number, tau: number, m: number): Float64Array {
  const q = new Float64Array(m);
  for (let j = 0; j < m; j++) q[j] = (j === 0 ? nf : 1) * kT * tau * tau;
  return q;
}

/**
 * Propagate the chain by `half` (= dt/2) with kinetic energy K (Martyna, Tuckerman & Klein, Mol. Phys. 87,
 * 1117 (1996)); returns the factor that scales all particle velocities.
 */
export function nhcHalfStep(st: NhcState, ekin: number, nf: number, kT: number, q: Float64Array, half: number): number {
  const m = q.length;
  const g = (j: number, k2: number) => (j === 0 ? k2 - nf * kT : q[j - 1] * st.vxi[j - 1] ** 2 - kT) / q[j];
  let scale = 1;
  let k2 = 2 * ekin;
  for (const w of SUZUKI_YOSHIDA) {
    const h = w * half;
    st.vxi[m - 1] += 0.5 * h * g(m - 1, k2);
    for (let j = m - 2; j >= 0; j--) {
      const s = Math.exp(-0.25 * h * st.vxi[j + 1]);
      st.vxi[j] = (st.vxi[j] * s + 0.5 * h * g(j, k2)) * s;
    }
    const f = Math.exp(-h * st.vxi[0]);
    scale *= f;
    k2 *= f * f;
    for (let j = 0; j < m; j++) st.xi[j] += h * st.vxi[j];
    for (let j = 0; j < m - 1; j++) {
      const s = Math.exp(-0.25 * h * st.vxi[j + 1]);
      st.vxi[j] = (st.vxi[j] * s + 0.5 * h * g(j, k2)) * s;
    }
    st.vxi[m - 1] += 0.5 * h * g(m - 1, k2);
  }
  return scale;
}

/** Energy of the chain, so E_pot + E_kin + this is conserved. */
export function nhcEnergy(st: NhcState, nf: number, kT: number, q: Float64Array): number {
  let e = 0;
  for (let j = 0; j < q.length; j++) e += 0.5 * q[j] * st.vxi[j] ** 2 + (j === 0 ? nf : 1) * kT * st.xi[j];
  return e;
}

/** Monte Carlo barostat state (OpenMM-style adaptive volume step). */
export interface BarostatState {
  attempts: number; accepted: number;
  windowAttempts: number; windowAccepted: number;
  /** Largest volume change of a trial move, Å³. */
  volumeScale: number;
}

/** The trial volume change for attempt a: ΔV uniform in [−s, s]. */
export function barostatTrialDeltaV(key: [number, number], attempt: number, volumeScale: number): number {
  return volumeScale * (2 * toUniform(philox4x32(attempt, 0, STREAM.barostat, 0, key[0], key[1])[0]) - 1);
}

/** Metropolis test on ΔW = ΔU + PΔV − N_mol kT ln(V'/V) (molecule-centre scaling). */
export function barostatAccept(key: [number, number], attempt: number, dU: number, pressure: number, v0: number,
  v1: number, numMolecules: number, kT: number): boolean {
  const dW = dU + pressure * (v1 - v0) - numMolecules * kT * Math.log(v1 / v0);
  if (dW <= 0) return true;
  return toUniform(philox4x32(attempt, 0, STREAM.barostat, 0, key[0], key[1])[1]) < Math.exp(-dW / kT);
}

/** After each attempt: every 10 attempts, tune the step towards 25–75 % acceptance (capped at 30 % of V). */
export function barostatAdapt(st: BarostatState, accepted: boolean, volume: number): void {
  st.attempts++; st.windowAttempts++;
  if (accepted) { st.accepted++; st.windowAccepted++; }
  if (st.windowAttempts >= 10) {
    if (st.windowAccepted < 0.25 * st.windowAttempts) st.volumeScale /= 1.1;
    else if (st.windowAccepted > 0.75 * st.windowAttempts) st.volumeScale = Math.min(st.volumeScale * 1.1, 0.3 * volume);
    st.windowAttempts = 0; st.windowAccepted = 0;
  }
}
