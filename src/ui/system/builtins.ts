// Built-in systems offered by the system panel: the sample files in public/systems/ (plus any listed in
// an optional public/systems/index.json), and larger water boxes made as supercells of the 64-water box.

export interface BuiltinSystem {
  name: string;
  /** File under public/systems/. */
  file: string;
  description?: string;
  /** Tile the file's cell this many times (for larger boxes). */
  repeat?: [number, number, number];
  /** The system loaded on first open. */
  default?: boolean;
}

export const BUILTIN_SYSTEMS: BuiltinSystem[] = [
  { name: 'water box, 64 H₂O (192 atoms)', file: 'water64_box.xyz', default: true, description: '1.00 g/cm³, periodic' },
  { name: 'water box, 512 H₂O (1536 atoms)', file: 'water64_box.xyz', repeat: [2, 2, 2], description: '2×2×2 supercell of the 64-water box' },
  { name: 'water box, 1728 H₂O (5184 atoms)', file: 'water64_box.xyz', repeat: [3, 3, 3], description: '3×3×3 supercell of the 64-water box' },
  { name: 'ionic gas: Na⁺…Cl⁻ pair in a 24 Å box', file: 'nacl_pair_box.xyz' },
  { name: 'water cluster (H₂O)₈', file: 'water8.xyz' },
  { name: 'water molecule', file: 'water.xyz' },
  // Organic molecules at their GFN2-xTB minima (training/data/make_organics.py), for an H/C/N/O model with
  // charge/spin (issue 16); the shipped water and ionic-gas models refuse them by element.
  { name: 'aspirin C₉H₈O₄', file: 'aspirin.xyz', description: 'GFN2-xTB minimum; needs an H/C/N/O model' },
  { name: 'paracetamol C₈H₉NO₂', file: 'paracetamol.xyz', description: 'GFN2-xTB minimum; needs an H/C/N/O model' },
  { name: 'caffeine C₈H₁₀N₄O₂', file: 'caffeine.xyz', description: 'GFN2-xTB minimum; needs an H/C/N/O model' },
  { name: 'ethanol C₂H₅OH', file: 'ethanol.xyz', description: 'GFN2-xTB minimum; needs an H/C/N/O model' },
  { name: 'acetate anion CH₃COO⁻ (charge −1)', file: 'acetate.xyz', description: 'charge −1 set in the file; needs an H/C/N/O model with charge/spin. The shipped organics-gfn2-small splits it into CH₃⁻ + CO₂ within ~2 ps at 300 K (a model error: see its card)' },
];

export const SYSTEMS_INDEX_URL = 'systems/index.json';

/** The built-in list, extended by public/systems/index.json when that file exists. */
export async function fetchBuiltinSystems(): Promise<BuiltinSystem[]> {
  const list = [...BUILTIN_SYSTEMS];
  try {
    const res = await fetch(SYSTEMS_INDEX_URL);
    const text = await res.text();
    // Vite answers unknown paths with index.html: that means "no index".
    if (res.ok && !text.trimStart().startsWith('<')) {
      const raw = JSON.parse(text) as { systems?: BuiltinSystem[] } | BuiltinSystem[];
      for (const b of Array.isArray(raw) ? raw : raw.systems ?? []) {
        if (b && typeof b.file === 'string' && !list.some((x) => x.file === b.file && !x.repeat)) list.push({ name: b.name ?? b.file, file: b.file, description: b.description });
      }
    }
  } catch {
    // No index or an unreadable one: the built-in list stands.
  }
  return list;
}

/** The system loaded on first open. */
export function pickDefaultSystem(list: BuiltinSystem[]): BuiltinSystem | undefined {
  return list.find((b) => b.default) ?? list.find((b) => /water/i.test(b.name)) ?? list[0];
}
