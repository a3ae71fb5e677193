// Run safety: checks every sample for non-finite numbers, exploding forces and runaway temperature, and says
// which step and which atoms; the caller keeps the last good sample as the frame to save.
import { chemicalSymbol } from '../io/elements';
import { AMU_A2_FS2_TO_EV, KB } from './units';
import type { Sample } from './types';

export interface SafetyLimits {
  /** Largest force on any atom, eV/Å. */
  maxForce: number;
  /** Highest temperature, K. */
  maxTemperature: number;
}

export function defaultLimits(targetTemperature: number): SafetyLimits {
  return { maxForce: 100, maxTemperature: Math.max(10 * targetTemperature, 5000) };
}

export class MdSafetyError extends Error {
  constructor(message: string, readonly step: number, readonly atoms: number[]) {
    super(message);
    this.name = 'MdSafetyError';
  }
}

function atomList(numbers: Int32Array, atoms: number[]): string {
  const shown = atoms.slice(0, 5).map((i) => `${chemicalSymbol(numbers[i])}${i}`).join(', ');
  return atoms.length > 5 ? `${shown} and ${atoms.length - 5} more` : shown;
}

/** What the sample that reported a fault looks like, for the message. */
function describeSample(s: Sample, numbers: Int32Array): string {
  const bad: number[] = [];
  let fMax = 0;
  for (let i = 0; i < numbers.length; i++) {
    const f = Math.hypot(s.forces[3 * i], s.forces[3 * i + 1], s.forces[3 * i + 2]);
    if (!Number.isFinite(f) || !Number.isFinite(s.positions[3 * i])) bad.push(i); else fMax = Math.max(fMax, f);
  }
  if (bad.length) return `; by step ${s.step} NaN/Inf on atoms ${atomList(numbers, bad)}`;
  return `; at step ${s.step} the largest force is ${fMax.toPrecision(4)} eV/Å`;
}

/** Returns a description of what went wrong in this sample, or null when it is fine. */
export function checkSample(s: Sample, numbers: Int32Array, masses: Float64Array, dof: number, limits: SafetyLimits):
  MdSafetyError | null {
  const n = numbers.length;
  if (s.providerFault) return new MdSafetyError(`by step ${s.step}: ${s.providerFault}`, s.step, []);
  if (s.fault) {
    const a = s.fault.atom;
    return new MdSafetyError(`step ${s.fault.step}: atom ${chemicalSymbol(numbers[a])}${a} went bad first (force above ` +
      `${limits.maxForce} eV/Å or NaN/Inf, caught by the per-step check)${describeSample(s, numbers)}`, s.fault.step, [a]);
  }
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const j = 3 * i + k;
      if (!Number.isFinite(s.positions[j]) || !Number.isFinite(s.velocities[j]) || !Number.isFinite(s.forces[j])) { bad.push(i); break; }
    }
  }
  if (bad.length > 0 || !Number.isFinite(s.epot)) {
    const who = bad.length ? ` on atoms ${atomList(numbers, bad)}` : ' (energy)';
    return new MdSafetyError(`step ${s.step}: NaN/Inf in positions, velocities or forces${who}`, s.step, bad);
  }
  let fMax = 0, worst = -1;
  const hot: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = Math.hypot(s.forces[3 * i], s.forces[3 * i + 1], s.forces[3 * i + 2]);
    if (f > fMax) { fMax = f; worst = i; }
  }
  if (fMax > limits.maxForce) {
    const over: number[] = [];
    for (let i = 0; i < n; i++) if (Math.hypot(s.forces[3 * i], s.forces[3 * i + 1], s.forces[3 * i + 2]) > limits.maxForce) over.push(i);
    over.sort((a, b) => (a === worst ? -1 : b === worst ? 1 : 0));
    return new MdSafetyError(`step ${s.step}: exploding forces, |F| = ${fMax.toPrecision(4)} eV/Å on atom ` +
      `${chemicalSymbol(numbers[worst])}${worst} (limit ${limits.maxForce} eV/Å; atoms over it: ${atomList(numbers, over)})`, s.step, over);
  }
  const t = (2 * s.ekin) / (dof * KB);
  if (t > limits.maxTemperature) {
    const ke = Array.from({ length: n }, (_, i) =>
      0.5 * masses[i] * AMU_A2_FS2_TO_EV * (s.velocities[3 * i] ** 2 + s.velocities[3 * i + 1] ** 2 + s.velocities[3 * i + 2] ** 2));
    const order = ke.map((_, i) => i).sort((a, b) => ke[b] - ke[a]);
    for (const i of order.slice(0, 5)) hot.push(i);
    return new MdSafetyError(`step ${s.step}: runaway temperature ${t.toFixed(0)} K (limit ${limits.maxTemperature} K); ` +
      `hottest atoms ${atomList(numbers, hot)}`, s.step, hot);
  }
  return null;
}
