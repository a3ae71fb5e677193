// Interactive steering: a harmonic spring that pulls chosen atoms toward a target point while MD runs, and the
// work it does on them.
//
// Each pulled atom i has its own spring to the point X + o_i (X the target the user moves, o_i the atom's offset
// from the pressed atom when the pull began, so a group keeps its shape):
//   U_pull = Σ_i ½ k |x_i − X − o_i|²,   F_i = k (X + o_i − x_i)            (k in eV/Å², x in Å, F in eV/Å)
// The work the springs do on the atoms, W_pull = Σ_i ∫ F_i · dx_i, is accumulated every step with the trapezoid
// rule along the step's actual displacement, W += ½ (F_i(step n) + F_i(step n+1)) · (x_i(n+1) − x_i(n)).
// Why this definition: E_kin + E_pot changes by exactly the work of the extra force, so in NVE
// E_tot − W_pull is conserved, with no term for the spring's own energy, and the target may jump between steps
// (the pointer moves between GPU submissions) without a jump in E_tot − W_pull. For a fixed target the
// trapezoid rule is exact for the linear spring force along the straight step, so E_tot − W_pull equals
// E_tot + U_pull up to a constant: the velocity-Verlet energy of the model plus spring, with its usual
// O(dt²) bounded error. After a release the spring's last force still acts for one half kick; the kernel's
// next step adds that tail (½ F_last · dx) and then nothing.
// The Monte Carlo barostat's acceptance test sees the model's energy only (the spring is an outside agent).

/** A pull request the engine refuses (the message names the field). */
export class SteeringError extends Error {
  /** The field at fault: 'stiffness', 'atoms', 'offsets' or 'target'. */
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`pull ${field}: ${problem}`);
    this.name = 'SteeringError';
    this.field = field;
  }
}

/** Default spring constant of the pull tool, eV/Å² (a pulled water H moves ~0.5 Å per 1 eV/Å of force). */
export const DEFAULT_PULL_STIFFNESS = 2;

export interface Pull {
  /** Pulled atoms (engine indices, distinct). */
  atoms: number[];
  /** Per pulled atom, the offset (Å) of its spring's anchor from `target`: 3 numbers each. */
  offsets: number[];
  /** Where the pointer is: the spring anchor of the pressed atom, Å, in the engine's (unwrapped) coordinates. */
  target: [number, number, number];
  /** Spring constant, eV/Å², > 0. */
  stiffness: number;
}

export function checkStiffness(k: number): void {
  if (typeof k !== 'number' || !Number.isFinite(k) || k <= 0) {
    throw new SteeringError('stiffness', `must be a finite number of eV/Å² above 0, got ${String(k)}`);
  }
}

/** Refuses a pull the engines cannot apply, naming the field. */
export function checkPull(p: Pull, numAtoms: number): void {
  checkStiffness(p.stiffness);
  if (!Array.isArray(p.atoms) || p.atoms.length === 0) throw new SteeringError('atoms', 'needs at least one atom');
  const seen = new Set<number>();
  for (const a of p.atoms) {
    if (!Number.isInteger(a) || a < 0 || a >= numAtoms) throw new SteeringError('atoms', `atom ${a} is not one of the system's ${numAtoms}`);
    if (seen.has(a)) throw new SteeringError('atoms', `atom ${a} is listed twice`);
    seen.add(a);
  }
  if (p.offsets.length !== 3 * p.atoms.length || !p.offsets.every(Number.isFinite)) {
    throw new SteeringError('offsets', `needs 3 finite numbers (Å) per pulled atom, got ${p.offsets.length} for ${p.atoms.length} atoms`);
  }
  if (p.target.length !== 3 || !p.target.every(Number.isFinite)) throw new SteeringError('target', `must be 3 finite numbers (Å), got ${p.target.join(', ')}`);
}

/** Whether two pulls act on the same atoms with the same offsets (then only target and stiffness changed). */
export function sameAtoms(a: Pull | null, b: Pull | null): boolean {
  if (!a || !b || a.atoms.length !== b.atoms.length) return false;
  for (let j = 0; j < a.atoms.length; j++) if (a.atoms[j] !== b.atoms[j]) return false;
  for (let j = 0; j < a.offsets.length; j++) if (a.offsets[j] !== b.offsets[j]) return false;
  return true;
}

/** Spring energy (eV) of a pull at positions x (N×3, Å). */
export function pullEnergy(p: Pull, x: ArrayLike<number>): number {
  let u = 0;
  p.atoms.forEach((a, j) => {
    for (let k = 0; k < 3; k++) u += 0.5 * p.stiffness * (x[3 * a + k] - p.target[k] - p.offsets[3 * j + k]) ** 2;
  });
  return u;
}

/**
 * The float64 pull of the CPU engine, the reference for shaders/md/pull.wgsl: per atom the previous position
 * and spring force, so each step adds its trapezoid to the work; W summed over atoms in float64.
 */
export class PullAccumulator {
  private prevX: Float64Array;
  private prevF: Float64Array;
  /** Spring forces now (eV/Å), zero for atoms not pulled. */
  readonly force: Float64Array;
  private pull: Pull | null = null;
  /** Work done by the springs on the atoms so far, eV. */
  work = 0;

  constructor(positions: Float64Array) {
    this.prevX = Float64Array.from(positions);
    this.prevF = new Float64Array(positions.length);
    this.force = new Float64Array(positions.length);
  }

  set(p: Pull | null): void {
    this.pull = p;
  }

  get current(): Pull | null { return this.pull; }

  /** Spring forces at x, added to f; with `accumulate`, the step's work is added and x, F remembered. */
  apply(x: Float64Array, f: Float64Array, accumulate: boolean): void {
    const F = this.force, p = this.pull;
    F.fill(0);
    if (p) {
      p.atoms.forEach((a, j) => {
        for (let k = 0; k < 3; k++) F[3 * a + k] = p.stiffness * (p.target[k] + p.offsets[3 * j + k] - x[3 * a + k]);
      });
    }
    for (let i = 0; i < F.length; i++) f[i] += F[i];
    if (!accumulate) return;
    // Only atoms with a force now or at the last step contribute; the sum runs over all to stay simple and exact.
    let w = 0;
    for (let i = 0; i < F.length; i++) {
      if (F[i] !== 0 || this.prevF[i] !== 0) w += 0.5 * (this.prevF[i] + F[i]) * (x[i] - this.prevX[i]);
    }
    this.work += w;
    this.prevX.set(x);
    this.prevF.set(F);
  }

  /** State for a checkpoint: previous positions, forces and the work. */
  save(): Float64Array {
    const n = this.prevX.length, out = new Float64Array(2 * n + 1);
    out.set(this.prevX, 0); out.set(this.prevF, n); out[2 * n] = this.work;
    return out;
  }

  restore(s: Float64Array): void {
    const n = this.prevX.length;
    this.prevX.set(s.subarray(0, n)); this.prevF.set(s.subarray(n, 2 * n)); this.work = s[2 * n];
  }
}
