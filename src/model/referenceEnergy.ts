// Sum of the per-element reference energies the energy head is trained on top of (eV). Shared by the
// float64 CPU runtime and the WebGPU runtime so both refuse the same atoms: an atom whose Z has no entry
// would add `undefined` (NaN energy) or index past the list.

import { UnsupportedSystemError } from './systemCheck';

/** Σ refs[Z] over the atoms (0 when the model has no references); UnsupportedSystemError names the atoms without one. */
export function elementReferenceEnergy(refs: readonly number[] | null, numbers: ArrayLike<number>, modelName: string): number {
  if (!refs) return 0;
  let e = 0;
  const missing: number[] = [];
  for (let a = 0; a < numbers.length; a++) {
    const z = numbers[a];
    const r = Number.isInteger(z) && z >= 0 && z < refs.length ? refs[z] : undefined;
    if (typeof r !== 'number' || !Number.isFinite(r)) missing.push(a);
    else e += r;
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((a) => `atom ${a} (Z = ${numbers[a]})`).join(', ');
    const more = missing.length > 10 ? ` and ${missing.length - 10} more` : '';
    throw new UnsupportedSystemError([{
      kind: 'element-outside-model', atoms: missing,
      message: `model ${modelName} has no reference energy for ${shown}${more}: its element references cover Z = 0..${refs.length - 1}`,
    }], modelName);
  }
  return e;
}
