// Can this model compute this structure? Checked before any compute by the CLI (`calc`, `md`), the MD
// engine set-up and the workbench: elements the model was not trained on, a charge or spin the model
// cannot represent, atoms on top of each other, and a cell too small for the cutoff. `checkSystem` returns
// the problems as data (the workbench shows them); `assertSystemSupported` throws UnsupportedSystemError
// listing every error at once (the CLI), and returns the warnings.

import { cellHeights, cellInverse, reducedPositions, SingularCellError } from '../geometry/cell';
import { imageRepeats, PeriodicImageError } from '../geometry/periodicImages';
import { chemicalSymbol, COVALENT_RADII, MAX_Z } from '../io/elements';
import type { Structure } from '../io/structure';
import type { ArchitectureConfig, ModelConfig } from './config';

/**
 * Atoms closer than this fraction of the sum of their covalent radii are reported. The shortest bond
 * there is (H₂, 0.74 Å) is 1.2× its radii sum and bonds shorten by well under 20 % even at ~100 GPa, so
 * half the sum (0.31 Å for H–H, 0.71 Å for C–C) is never a real geometry: it is a duplicated atom, a
 * unit mix-up (nm or Bohr read as Å) or an image of an atom in a cell far too small, where the model,
 * which never saw such distances, answers with arbitrary numbers.
 */
export const CLOSE_CONTACT_FRACTION = 0.5;

/** Charge and spin multiplicity the runtimes use when a file gives none (and all a model without the embedding computes). */
export const DEFAULT_CHARGE = 0;
export const DEFAULT_SPIN = 1;

/** Two atoms at distance 0 (found while building the graph, on either runtime). */
export class OverlappingAtomsError extends Error {
  constructor(readonly atomA: number, readonly atomB: number) {
    super(`atoms ${atomA} and ${atomB} sit on the same point (distance 0 Å): the model is undefined there`);
    this.name = 'OverlappingAtomsError';
  }
}

export interface SystemCharge { charge: number; spin: number }

/**
 * Atomic numbers inside the model's embedding table and a charge/spin inside its tables; every problem is
 * listed in one UnsupportedSystemError (an index past the table would read another row or undefined).
 */
export function checkChargeSpin(numbers: Int32Array, cs: SystemCharge, arch: ArchitectureConfig): void {
  const problems: SystemProblem[] = [];
  const outside: number[] = [];
  for (let i = 0; i < numbers.length; i++) {
    const z = numbers[i];
    if (!Number.isInteger(z) || z < 1 || z >= arch.max_num_elements) outside.push(i);
  }
  if (outside.length > 0) {
    const shown = outside.slice(0, 10).map((i) => `atom ${i} has atomic number ${numbers[i]}`).join(', ');
    const more = outside.length > 10 ? ` and ${outside.length - 10} more` : '';
    problems.push({ kind: 'element-outside-model', atoms: outside, message: `${shown}${more}; this model knows Z = 1..${arch.max_num_elements - 1}` });
  }
  if (!Number.isInteger(cs.charge) || cs.charge < -100 || cs.charge > 100)
    problems.push({ kind: 'charge', message: `charge ${cs.charge} is outside the model's range −100..100 (integers)` });
  if (!Number.isInteger(cs.spin) || cs.spin < 0 || cs.spin > 100)
    problems.push({ kind: 'spin', message: `spin multiplicity ${cs.spin} is outside the model's range 0..100 (integers)` });
  if (problems.length > 0) throw new UnsupportedSystemError(problems, 'this model');
}

/** How many atom indices or atom pairs a message lists before "and N more". */
const LIST_CAP = 10;

export type SystemProblemKind =
  | 'no-atoms'
  | 'positions-length'
  | 'non-finite-position'
  | 'untrained-element'
  | 'unknown-elements'
  | 'element-outside-model'
  | 'charge'
  | 'spin'
  | 'close-atoms'
  | 'cell-too-small';

export interface CloseContact {
  /** Atom indices, a ≤ b (a = b: an atom and its own periodic image). */
  a: number;
  b: number;
  /** Minimum-image distance, Å. */
  distance: number;
  /** CLOSE_CONTACT_FRACTION × (R_a + R_b), Å. */
  threshold: number;
}

export interface SystemProblem {
  kind: SystemProblemKind;
  message: string;
  /** Atom indices concerned (all of them, not capped like the message). */
  atoms?: number[];
  /** For close-atoms: the closest pairs (at most 100), closest first. */
  contacts?: CloseContact[];
}

export interface SystemCheckOptions {
  /** Compute elements outside the model's `elements` list anyway (an expert override; reported as a warning). */
  allowUntrainedElements?: boolean;
  /** Atoms closer than the threshold: an error (CLI, default) or a warning (the workbench shows the pair). */
  closeAtoms?: 'error' | 'warning';
}

export interface SystemCheck {
  errors: SystemProblem[];
  warnings: SystemProblem[];
}

/** A structure the model cannot compute; `problems` holds every error found. */
export class UnsupportedSystemError extends Error {
  constructor(readonly problems: SystemProblem[], readonly modelName: string) {
    super(
      problems.length === 1
        ? problems[0].message
        : `${problems.length} problems with the structure for model ${modelName}:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
    );
    this.name = 'UnsupportedSystemError';
  }
}

/** "0, 4, 7, … and 12 more" */
function listCapped(items: (number | string)[]): string {
  const shown = items.slice(0, LIST_CAP).join(', ');
  return items.length > LIST_CAP ? `${shown} and ${items.length - LIST_CAP} more` : shown;
}

function symbolOf(z: number): string {
  return Number.isInteger(z) && z >= 1 && z <= MAX_Z ? chemicalSymbol(z) : `Z=${z}`;
}

function elementNames(zs: number[]): string {
  return zs.map(symbolOf).join(', ');
}

/** Atom indices per atomic number, for the atoms whose Z satisfies `pick`. */
function atomsByElement(numbers: Int32Array, pick: (z: number) => boolean): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let i = 0; i < numbers.length; i++) {
    const z = numbers[i];
    if (!pick(z)) continue;
    let list = out.get(z);
    if (!list) out.set(z, (list = []));
    list.push(i);
  }
  return new Map([...out.entries()].sort((x, y) => x[0] - y[0]));
}

function describeAtoms(byElement: Map<number, number[]>): string {
  return [...byElement.entries()]
    .map(([z, atoms]) => `${symbolOf(z)} (atom${atoms.length === 1 ? '' : 's'} ${listCapped(atoms)})`)
    .join(', ');
}

/**
 * Atom pairs closer than CLOSE_CONTACT_FRACTION × their covalent radii sum, minimum image in periodic
 * directions, closest first (at most `limit`). Linear in the number of atoms: atoms are binned on a grid of
 * the cell's (fractional) axes at least the largest threshold wide, and only neighbouring bins are compared.
 * Returns null when the cell is so thin that even the bins cannot be bounded (the cell check reports it).
 */
export function findCloseContacts(structure: Structure, limit = 100): CloseContact[] | null {
  const n = structure.numbers.length;
  if (n === 0) return [];
  const radius = (z: number) => COVALENT_RADII[Number.isInteger(z) && z >= 0 && z <= MAX_Z ? z : 0];
  let rMax = 0;
  for (let i = 0; i < n; i++) rMax = Math.max(rMax, radius(structure.numbers[i]));
  const reach = CLOSE_CONTACT_FRACTION * 2 * rMax;
  // A cell without periodic axes plays no part (and may be a placeholder, even a singular one).
  const hasCell = structure.cell !== null && structure.pbc.some(Boolean);
  // Lattice rows and their inverse (fractional = cartesian · inverse); a molecule uses the identity.
  const L = hasCell ? Float64Array.from(structure.cell!) : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  const periodic = [0, 1, 2].map((k) => hasCell && structure.pbc[k]);
  let inv: Float64Array;
  try {
    inv = cellInverse(L);
  } catch (e) {
    if (e instanceof SingularCellError) return null;
    throw e;
  }
  const heights = hasCell ? cellHeights(L) : [1, 1, 1];
  const frac = reducedPositions(structure.positions, inv, periodic);
  // Bins per axis at least `reach` wide perpendicular to the other two axes; `span` = neighbouring bins to scan.
  const bins = [1, 1, 1], span = [0, 0, 0], lo = [0, 0, 0], width = [1, 1, 1];
  for (let k = 0; k < 3; k++) {
    if (periodic[k]) {
      bins[k] = Math.max(1, Math.floor(heights[k] / reach));
      width[k] = 1 / bins[k];
      span[k] = Math.ceil(reach / (heights[k] / bins[k]));
    } else {
      let min = Infinity, max = -Infinity;
      for (let q = 0; q < n; q++) { min = Math.min(min, frac[3 * q + k]); max = Math.max(max, frac[3 * q + k]); }
      lo[k] = min;
      width[k] = reach / heights[k]; // fractional width of a bin `reach` wide
      bins[k] = Infinity; // open axis: bins are not wrapped
      span[k] = 1;
    }
  }
  // An atom meets (2·span+1)³ bins; beyond this many the cell is degenerate for our purpose.
  if ((2 * span[0] + 1) * (2 * span[1] + 1) * (2 * span[2] + 1) > 100_000 || !Number.isFinite(reach) || reach <= 0) return null;
  const binOf = (q: number, k: number) => {
    const t = Math.floor((frac[3 * q + k] - lo[k]) / width[k]);
    return periodic[k] ? Math.min(bins[k] - 1, Math.max(0, t)) : t;
  };
  // Sparse grid: a hash of the bin triple. Collisions only add pairs to test; every distance is real.
  const hash = (x: number, y: number, z: number) => (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(z, 83492791)) | 0;
  const grid = new Map<number, number[]>();
  const atomBin = new Float64Array(3 * n); // exact bin integers (far beyond int32 for scattered atoms)
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < 3; k++) atomBin[3 * q + k] = binOf(q, k);
    const key = hash(atomBin[3 * q], atomBin[3 * q + 1], atomBin[3 * q + 2]);
    let list = grid.get(key);
    if (!list) grid.set(key, (list = []));
    list.push(q);
  }
  const best = new Map<number, CloseContact>();
  const t = [0, 0, 0], shift = [0, 0, 0], offset = [0, 0, 0];
  const numbersArr = structure.numbers;
  for (let q = 0; q < n; q++) {
    const rq = radius(numbersArr[q]);
    const qx = frac[3 * q], qy = frac[3 * q + 1], qz = frac[3 * q + 2];
    for (offset[0] = -span[0]; offset[0] <= span[0]; offset[0]++)
      for (offset[1] = -span[1]; offset[1] <= span[1]; offset[1]++)
        for (offset[2] = -span[2]; offset[2] <= span[2]; offset[2]++) {
          for (let k = 0; k < 3; k++) {
            const target = atomBin[3 * q + k] + offset[k];
            if (periodic[k]) {
              const m = bins[k];
              shift[k] = Math.floor(target / m);
              t[k] = target - shift[k] * m;
            } else {
              t[k] = target;
              shift[k] = 0;
            }
          }
          const list = grid.get(hash(t[0], t[1], t[2]));
          if (list === undefined) continue;
          const sx = shift[0], sy = shift[1], sz = shift[2];
          // each unordered pair once; an atom with its own image only for the "positive" image
          const selfImage = sx > 0 || (sx === 0 && (sy > 0 || (sy === 0 && sz > 0)));
          for (let u = 0; u < list.length; u++) {
            const r = list[u];
            if (r < q || (r === q && !selfImage)) continue;
            const fx = frac[3 * r] + sx - qx;
            const fy = frac[3 * r + 1] + sy - qy;
            const fz = frac[3 * r + 2] + sz - qz;
            const vx = fx * L[0] + fy * L[3] + fz * L[6];
            const vy = fx * L[1] + fy * L[4] + fz * L[7];
            const vz = fx * L[2] + fy * L[5] + fz * L[8];
            const threshold = CLOSE_CONTACT_FRACTION * (rq + radius(numbersArr[r]));
            const d2 = vx * vx + vy * vy + vz * vz;
            if (!(d2 < threshold * threshold)) continue;
            const dist = Math.sqrt(d2);
            const key = q * n + r;
            const prev = best.get(key);
            if (!prev || dist < prev.distance) best.set(key, { a: q, b: r, distance: dist, threshold });
          }
        }
  }
  return [...best.values()].sort((x, y) => x.distance - y.distance || x.a - y.a || x.b - y.b).slice(0, limit);
}

/**
 * Every reason the model cannot (or should not) compute the structure, as data. Pure: nothing is thrown
 * for a bad structure, nothing is logged.
 */
export function checkSystem(structure: Structure, config: ModelConfig, options: SystemCheckOptions = {}): SystemCheck {
  const errors: SystemProblem[] = [];
  const warnings: SystemProblem[] = [];
  const arch = config.architecture;
  const numbers = structure.numbers;
  const n = numbers.length;
  if (n === 0) {
    errors.push({ kind: 'no-atoms', message: 'the structure has no atoms' });
    return { errors, warnings };
  }

  // Positions: anything non-finite makes every later check (and the model) meaningless.
  const bad: number[] = [];
  for (let q = 0; q < n; q++) {
    if (![0, 1, 2].every((k) => Number.isFinite(structure.positions[3 * q + k]))) bad.push(q);
  }
  if (bad.length > 0) {
    errors.push({ kind: 'non-finite-position', atoms: bad, message: `atom${bad.length === 1 ? '' : 's'} ${listCapped(bad)} ha${bad.length === 1 ? 's' : 've'} a non-finite coordinate` });
  }

  // Elements the model has no embedding row (or no reference energy) for: never computable.
  const refs = config.normalization.element_references;
  const outside = atomsByElement(numbers, (z) => !(Number.isInteger(z) && z >= 1 && z < arch.max_num_elements && (!refs || z < refs.length)));
  if (outside.size > 0) {
    const why = refs && refs.length < arch.max_num_elements
      ? `its atomic embedding and element references cover Z = 1..${Math.min(arch.max_num_elements, refs.length) - 1}`
      : `its atomic embedding covers Z = 1..${arch.max_num_elements - 1}`;
    errors.push({
      kind: 'element-outside-model',
      atoms: [...outside.values()].flat(),
      message: `model ${config.name} cannot represent ${describeAtoms(outside)}: ${why}`,
    });
  }

  // Elements the model was not trained on.
  if (config.elements === null) {
    warnings.push({
      kind: 'unknown-elements',
      message: `model ${config.name} does not list the elements it was trained on, so the structure's elements ` +
        `(${elementNames([...atomsByElement(numbers, () => true).keys()])}) are not checked against them`,
    });
  } else {
    const known = new Set(config.elements);
    const untrained = atomsByElement(numbers, (z) => !known.has(z) && !outside.has(z));
    if (untrained.size > 0) {
      const trained = `${elementNames(config.elements)} (Z = ${config.elements.join(', ')})`;
      const problem: SystemProblem = {
        kind: 'untrained-element',
        atoms: [...untrained.values()].flat(),
        message: options.allowUntrainedElements
          ? `computing ${describeAtoms(untrained)} although model ${config.name} was trained on ${trained} only ` +
            '(untrained elements allowed): these results are not predictions'
          : `model ${config.name} was trained on ${trained} only; the structure has ${describeAtoms(untrained)}. ` +
            'Its energies and forces for them would be meaningless (override: --allow-untrained-elements)',
      };
      (options.allowUntrainedElements ? warnings : errors).push(problem);
    }
  }

  // Charge and spin.
  const { charge, spin } = structure;
  if (!arch.use_charge_spin) {
    const noEmbedding = `model ${config.name} has no charge/spin embedding (architecture.use_charge_spin is false), so it computes every structure as`;
    if (charge !== DEFAULT_CHARGE) {
      errors.push({ kind: 'charge', message: `${noEmbedding} neutral (charge ${DEFAULT_CHARGE}); this one has charge ${charge}. Use charge ${DEFAULT_CHARGE} or a model with charge/spin` });
    }
    if (spin !== DEFAULT_SPIN) {
      errors.push({ kind: 'spin', message: `${noEmbedding} a singlet (spin multiplicity ${DEFAULT_SPIN}); this one has spin ${spin}. Use spin ${DEFAULT_SPIN} or a model with charge/spin` });
    }
  } else {
    // The embedding tables hold charges −100..100 and multiplicities 0..100 (src/model/weights.ts).
    if (!(Number.isInteger(charge) && charge >= -100 && charge <= 100)) {
      errors.push({ kind: 'charge', message: `charge ${charge} is outside what model ${config.name} represents (whole numbers −100..100)` });
    }
    if (!(Number.isInteger(spin) && spin >= 0 && spin <= 100)) {
      errors.push({ kind: 'spin', message: `spin multiplicity ${spin} is outside what model ${config.name} represents (whole numbers 0..100)` });
    }
  }

  // Cell: too small for the cutoff (the graph would refuse it later; say so now).
  let cellOk = true;
  if (structure.cell && structure.pbc.some(Boolean)) {
    try {
      imageRepeats({ vectors: structure.cell, pbc: structure.pbc }, arch.cutoff);
    } catch (e) {
      if (!(e instanceof PeriodicImageError)) throw e;
      cellOk = false;
      errors.push({ kind: 'cell-too-small', message: e.message });
    }
  }

  // Atoms on top of each other (minimum image).
  if (bad.length === 0) {
    const contacts = findCloseContacts(structure);
    if (contacts === null) {
      if (cellOk) errors.push({ kind: 'cell-too-small', message: 'the cell is degenerate: atoms cannot be placed in it' });
    } else if (contacts.length > 0) {
      const f = (x: number) => x.toFixed(3);
      const pairs = contacts.map((p) =>
        p.a === p.b
          ? `atom ${p.a} (${symbolOf(numbers[p.a])}) and its own periodic image at ${f(p.distance)} Å`
          : `atoms ${p.a} (${symbolOf(numbers[p.a])}) and ${p.b} (${symbolOf(numbers[p.b])}) at ${f(p.distance)} Å`,
      );
      const more = contacts.length >= 100 ? ' (at least)' : '';
      (options.closeAtoms === 'warning' ? warnings : errors).push({
        kind: 'close-atoms',
        atoms: [...new Set(contacts.flatMap((p) => [p.a, p.b]))],
        contacts,
        message: `${contacts.length}${more} atom pair${contacts.length === 1 ? ' is' : 's are'} closer than half their covalent radii sum ` +
          `(no real structure is): ${listCapped(pairs)}`,
      });
    }
  }
  return { errors, warnings };
}

/**
 * Throws UnsupportedSystemError with every error checkSystem finds; returns the warnings. Called before any
 * compute by `calc`, `md` and the MD engine set-up.
 */
export function assertSystemSupported(structure: Structure, config: ModelConfig, options: SystemCheckOptions = {}): SystemProblem[] {
  const { errors, warnings } = checkSystem(structure, config, options);
  if (errors.length > 0) throw new UnsupportedSystemError(errors, config.name);
  return warnings;
}
