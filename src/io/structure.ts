// The atomic structure every runtime, the MD engine and the UI share.
// Units as in ASE: positions in Å, charge in e, spin as multiplicity (1 = singlet).

export type Pbc = [boolean, boolean, boolean];

/** A value decoded from JSON (extXYZ `key="_JSON …"` info values). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One per-frame info value: what ASE's extXYZ reader makes of a comment-line key. */
export type InfoValue = string | number | boolean | number[] | boolean[] | JsonValue;

export interface Structure {
  /** Atomic numbers Z, length N. */
  numbers: Int32Array;
  /** Cartesian positions, N×3 row-major, Å. */
  positions: Float64Array;
  /** Lattice vectors as rows (a, b, c), 9 numbers row-major, Å; null for a molecule in vacuum. */
  cell: Float64Array | null;
  pbc: Pbc;
  /** Total charge of the system (e). */
  charge: number;
  /** Spin multiplicity 2S+1 (fairchem's `spin`). */
  spin: number;
  /** Free-form per-frame info (extXYZ comment keys other than Lattice/pbc/Properties/charge/spin). */
  info?: Record<string, InfoValue>;
  /** Extra per-atom arrays read from a file, e.g. velocities (N×3) or reference forces. */
  arrays?: Record<string, Float64Array | Int32Array | string[]>;
}

export function numAtoms(s: Structure): number {
  return s.numbers.length;
}
