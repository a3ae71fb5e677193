// Measurements on 1–4 picked atoms, all through the minimum image so a pair split by the box
// boundary reads its true separation: position (Å), distance (Å), angle (°), dihedral (°).

import { displacement, type CellFrame, type Vec3 } from '../../geometry/cell';

export type MeasureKind = 'position' | 'distance' | 'angle' | 'dihedral';

export interface Measurement {
  kind: MeasureKind;
  atoms: number[];
  /** Scalar value: |r| for position, Å for distance, degrees for angle and dihedral. */
  value: number;
  /** Position of the single picked atom (Å), for `position`. */
  position?: Vec3;
  unit: 'Å' | '°';
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec3) => Math.sqrt(dot(a, a));
const DEG = 180 / Math.PI;

export function distance(pos: ArrayLike<number>, i: number, j: number, cf: CellFrame | null): number {
  return norm(displacement(pos, i, j, cf));
}

/** Angle i–j–k at vertex j, degrees. */
export function angle(pos: ArrayLike<number>, i: number, j: number, k: number, cf: CellFrame | null): number {
  const a = displacement(pos, j, i, cf);
  const b = displacement(pos, j, k, cf);
  const c = dot(a, b) / (norm(a) * norm(b));
  return Math.acos(Math.min(1, Math.max(-1, c))) * DEG;
}

/** Dihedral i–j–k–l in degrees, (−180, 180], IUPAC sign convention (as ASE's get_dihedral modulo 360). */
export function dihedral(pos: ArrayLike<number>, i: number, j: number, k: number, l: number, cf: CellFrame | null): number {
  const b1 = displacement(pos, i, j, cf);
  const b2 = displacement(pos, j, k, cf);
  const b3 = displacement(pos, k, l, cf);
  const n1 = cross(b1, b2);
  const n2 = cross(b2, b3);
  // atan2(|b2| b1·(b2×b3), (b1×b2)·(b2×b3)): the IUPAC sign, checked against ASE's get_dihedral.
  const x = dot(n1, n2);
  const y = norm(b2) * dot(b1, n2);
  return Math.atan2(y, x) * DEG;
}

/** The measurement for a pick list of 1–4 atoms (the kind follows from how many are picked). */
export function measure(pos: ArrayLike<number>, atoms: number[], cf: CellFrame | null): Measurement | null {
  switch (atoms.length) {
    case 1: {
      const p: Vec3 = [pos[3 * atoms[0]], pos[3 * atoms[0] + 1], pos[3 * atoms[0] + 2]];
      return { kind: 'position', atoms, value: norm(p), position: p, unit: 'Å' };
    }
    case 2:
      return { kind: 'distance', atoms, value: distance(pos, atoms[0], atoms[1], cf), unit: 'Å' };
    case 3:
      return { kind: 'angle', atoms, value: angle(pos, atoms[0], atoms[1], atoms[2], cf), unit: '°' };
    case 4:
      return { kind: 'dihedral', atoms, value: dihedral(pos, atoms[0], atoms[1], atoms[2], atoms[3], cf), unit: '°' };
    default:
      return null;
  }
}

export function measurementLabel(m: Measurement, symbols: (i: number) => string): string {
  const names = m.atoms.map((a) => `${symbols(a)}${a}`).join('–');
  if (m.kind === 'position' && m.position) {
    const [x, y, z] = m.position;
    return `${names} at (${x.toFixed(3)}, ${y.toFixed(3)}, ${z.toFixed(3)}) Å`;
  }
  const digits = m.unit === 'Å' ? 4 : 2;
  return `${m.kind} ${names} = ${m.value.toFixed(digits)} ${m.unit}`;
}
