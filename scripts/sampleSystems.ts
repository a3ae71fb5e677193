// Builds the sample systems in public/systems/ deterministically (seeded PRNG, no external data):
//   water.xyz          one H2O
//   water8.xyz         (H2O)8 cube cluster, O–O 2.75 Å, one hydrogen bond along each edge of the top and bottom faces
//   water64_box.xyz    64 H2O in a periodic cube at 1.00 g/cm³ (L = 12.417 Å), random orientations, no close contacts
//   nacl_pair_box.xyz  Na and Cl at 2.8 Å (contact ion pair) in a 24 Å periodic cube
// Water geometry is the flexible SPC/Fw minimum (r_OH 1.012 Å, HOH 113.24°), the teacher of the shipped model.
// Written by scripts/make-systems.ts; test/io/systems.test.ts checks the files match and are physically sensible.

import { atomicMass } from '../src/io/elements';
import type { Structure } from '../src/io/structure';
import { writeExtXyz } from '../src/io/xyz';

export const R_OH = 1.012;
export const THETA_HOH = (113.24 * Math.PI) / 180;
const AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660;

type Vec = [number, number, number];
const add = (a: Vec, b: Vec): Vec => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: Vec, s: number): Vec => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: Vec) => Math.sqrt(dot(a, a));
const unit = (a: Vec): Vec => scale(a, 1 / norm(a));

/** Deterministic PRNG (mulberry32), uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The two H positions of a water whose first O–H bond points along u1 and whose plane contains u2. */
function waterHydrogens(o: Vec, u1: Vec, u2: Vec): [Vec, Vec] {
  const e1 = unit(u1);
  const perp = unit(sub(u2, scale(e1, dot(u2, e1))));
  const d2 = add(scale(e1, Math.cos(THETA_HOH)), scale(perp, Math.sin(THETA_HOH)));
  return [add(o, scale(e1, R_OH)), add(o, scale(d2, R_OH))];
}

function molecule(atoms: { z: number; p: Vec }[], comment: string, cell: number[] | null = null): Structure {
  return {
    numbers: Int32Array.from(atoms.map((a) => a.z)),
    positions: Float64Array.from(atoms.flatMap((a) => a.p)),
    cell: cell ? Float64Array.from(cell) : null,
    pbc: cell ? [true, true, true] : [false, false, false],
    charge: 0,
    spin: 1,
    info: { comment },
  };
}

function water(): Structure {
  const o: Vec = [0, 0, 0];
  // Symmetric about z: H's in the yz plane, the bisector along −z.
  const half = THETA_HOH / 2;
  const h1: Vec = [0, R_OH * Math.sin(half), -R_OH * Math.cos(half)];
  const h2: Vec = [0, -R_OH * Math.sin(half), -R_OH * Math.cos(half)];
  return molecule(
    [{ z: 8, p: o }, { z: 1, p: h1 }, { z: 1, p: h2 }],
    'one water molecule at the SPC/Fw minimum (r_OH 1.012 A, HOH 113.24 deg)',
  );
}

function water8(): Structure {
  const a = 2.75;
  // Cube corners: bottom face 0..3, top face 4..7, each face in cyclic order.
  const corners: Vec[] = [
    [0, 0, 0], [a, 0, 0], [a, a, 0], [0, a, 0],
    [0, 0, a], [a, 0, a], [a, a, a], [0, a, a],
  ];
  const center: Vec = [a / 2, a / 2, a / 2];
  // Each water donates one hydrogen bond along a face edge: bottom cycle 0→1→2→3→0, top cycle reversed.
  const donorTo = [1, 2, 3, 0, 7, 4, 5, 6];
  const atoms: { z: number; p: Vec }[] = [];
  corners.forEach((o, i) => {
    const toAcceptor = sub(corners[donorTo[i]], o);
    const outward = sub(o, center);
    const [h1, h2] = waterHydrogens(o, toAcceptor, outward);
    atoms.push({ z: 8, p: o }, { z: 1, p: h1 }, { z: 1, p: h2 });
  });
  return molecule(atoms, '(H2O)8 cube cluster, O-O 2.75 A, 8 hydrogen bonds along the face edges, SPC/Fw monomers');
}

/** Minimum-image distance in a cubic box. */
function boxDistance(a: Vec, b: Vec, L: number): number {
  const d = sub(a, b).map((x) => x - L * Math.round(x / L)) as Vec;
  return norm(d);
}

/** Random rotation matrix applied to a vector, from a uniformly random unit quaternion. */
function randomRotation(r: () => number): (v: Vec) => Vec {
  const u1 = r(), u2 = r(), u3 = r();
  const q = [
    Math.sqrt(1 - u1) * Math.sin(2 * Math.PI * u2),
    Math.sqrt(1 - u1) * Math.cos(2 * Math.PI * u2),
    Math.sqrt(u1) * Math.sin(2 * Math.PI * u3),
    Math.sqrt(u1) * Math.cos(2 * Math.PI * u3),
  ];
  const [x, y, z, w] = q;
  const m = [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ];
  return (v) => [0, 1, 2].map((i) => m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]) as Vec;
}

export const WATER_BOX_DENSITY = 1.0; // g/cm³

/** nSide³ waters in a periodic cube at WATER_BOX_DENSITY (the 64-water sample box is nSide = 4). */
export function waterBox(nSide = 4, seed = 20261124): Structure {
  const n = nSide ** 3;
  const massWater = atomicMass(8) + 2 * atomicMass(1);
  const volume = (n * massWater * AMU_PER_A3_TO_G_PER_CM3) / WATER_BOX_DENSITY;
  const L = Math.cbrt(volume);
  const r = rng(seed);
  const template: Vec[] = water()
    .positions.reduce<Vec[]>((acc, _, i, arr) => (i % 3 === 0 ? [...acc, [arr[i], arr[i + 1], arr[i + 2]] as Vec] : acc), []);
  const placed: { z: number; p: Vec }[] = [];
  const spacing = L / nSide;
  // Minimum distances between atoms of different molecules (Å): O–O, O–H, H–H.
  const minDist = (z1: number, z2: number) => (z1 === 8 && z2 === 8 ? 2.6 : z1 === 1 && z2 === 1 ? 1.6 : 1.65);
  for (let i = 0; i < nSide; i++) {
    for (let j = 0; j < nSide; j++) {
      for (let k = 0; k < nSide; k++) {
        let ok = false;
        for (let attempt = 0; attempt < 10000 && !ok; attempt++) {
          const jitter = () => (r() - 0.5) * 0.6;
          const o: Vec = [(i + 0.5) * spacing + jitter(), (j + 0.5) * spacing + jitter(), (k + 0.5) * spacing + jitter()];
          const rot = randomRotation(r);
          const mol = template.map((t, idx) => ({ z: idx === 0 ? 8 : 1, p: add(o, rot(t)) }));
          ok = mol.every((x) => placed.every((y) => boxDistance(x.p, y.p, L) >= minDist(x.z, y.z)));
          if (ok) placed.push(...mol);
        }
        if (!ok) throw new Error(`could not place water ${i},${j},${k}`);
      }
    }
  }
  return molecule(
    placed,
    `${n} SPC/Fw-geometry waters in a periodic cube at ${WATER_BOX_DENSITY.toFixed(2)} g/cm3 (seed ${seed})`,
    [L, 0, 0, 0, L, 0, 0, 0, L],
  );
}

function naclPair(): Structure {
  const L = 24;
  const c = L / 2;
  return molecule(
    [{ z: 11, p: [c - 1.4, c, c] }, { z: 17, p: [c + 1.4, c, c] }],
    'Na...Cl contact ion pair (2.8 A) in a 24 A periodic cube, total charge 0',
    [L, 0, 0, 0, L, 0, 0, 0, L],
  );
}

/** File name → extXYZ text of every sample system. */
export function makeSystems(): Record<string, string> {
  return {
    'water.xyz': writeExtXyz(water()),
    'water8.xyz': writeExtXyz(water8()),
    'water64_box.xyz': writeExtXyz(waterBox()),
    'nacl_pair_box.xyz': writeExtXyz(naclPair()),
  };
}

