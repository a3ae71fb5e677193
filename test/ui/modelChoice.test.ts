// Which shipped model the workbench runs a structure with, decided from the real public/models/index.json, the real
// model.json files it lists and the real built-in structures (public/systems). SCAIP_MODELS_DIR points the test at
// another models folder of the same layout (used while a model was still being trained). The organics model's cases
// run once the index lists it; before that, the refusal of the organic built-ins by every listed model is checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readStructure } from '../../src/io/read';
import type { Structure } from '../../src/io/structure';
import { chooseModelFor, readCandidates, runErrors, type ModelCandidate } from '../../src/ui/model/modelChoice';
import { BUILTIN_SYSTEMS } from '../../src/ui/system/builtins';

const MODELS = process.env.SCAIP_MODELS_DIR ?? 'public/models';
const ORGANICS = 'organics-gfn2-small';
const index = JSON.parse(readFileSync(join(MODELS, 'index.json'), 'utf8')) as { default: string; models: { dir: string; name: string }[] };
let candidates: ModelCandidate[];
const byDir = (dir: string) => candidates.find((c) => c.dir === dir)!;
const system = (file: string): Structure => readStructure(readFileSync(join('public/systems', file), 'utf8'), file);
const hasOrganics = index.models.some((m) => m.dir === ORGANICS);
const organicFiles = BUILTIN_SYSTEMS.filter((b) => /H\/C\/N\/O model/.test(b.description ?? '')).map((b) => b.file);

beforeAll(async () => {
  candidates = await readCandidates(index, async (dir) => readFileSync(join(MODELS, dir, 'model.json'), 'utf8'));
});

describe('the shipped index and models', () => {
  test('every listed model.json parses; the default is water', () => {
    expect(candidates.map((c) => c.dir)).toEqual(index.models.map((m) => m.dir));
    expect(index.default).toBe('water-spcfw-smooth');
    expect(organicFiles).toEqual(['aspirin.xyz', 'paracetamol.xyz', 'caffeine.xyz', 'ethanol.xyz', 'acetate.xyz']);
  });

  test.runIf(hasOrganics)('the organics model is listed (not the default) with H, C, N, O and charge/spin', () => {
    const org = byDir(ORGANICS).config;
    expect(org.elements).toEqual([1, 6, 7, 8]);
    expect(org.architecture.use_charge_spin).toBe(true);
  });
});

describe('opening a structure', () => {
  test.runIf(!hasOrganics)('no listed model runs the organic built-ins yet: no switch, the loaded model refuses them', () => {
    const water = byDir(index.default);
    for (const file of organicFiles) {
      const st = system(file);
      expect(candidates.every((c) => runErrors(st, c.config).length > 0), file).toBe(true);
      expect(chooseModelFor(st, file, candidates, index.default, { dir: water.dir, config: water.config, auto: false }), file).toBeNull();
    }
  });

  test.runIf(hasOrganics)('each built-in organic molecule with the water default loaded: refused by water, switched to the organics model', () => {
    const water = byDir(index.default);
    for (const file of organicFiles) {
      const st = system(file);
      expect(runErrors(st, water.config).length, file).toBeGreaterThan(0);
      const choice = chooseModelFor(st, file, candidates, index.default, { dir: water.dir, config: water.config, auto: false });
      expect(choice?.dir, file).toBe(ORGANICS);
      expect(runErrors(st, byDir(ORGANICS).config), file).toEqual([]);
      expect(choice!.reason).toMatch(/^water-spcfw-smooth cannot run /);
      expect(choice!.reason).toMatch(/can \(elements H, C, N, O, with charge\/spin\)$/);
    }
    const acetate = system('acetate.xyz');
    expect(acetate.charge).toBe(-1);
    const why = chooseModelFor(acetate, 'acetate', candidates, index.default, { dir: index.default, config: water.config, auto: false })!.reason;
    expect(why).toMatch(/not C; no charge\/spin embedding \(this structure: charge -1, spin 1\)/);
    // The user's override runs ethanol with the water model as before: no switch.
    expect(chooseModelFor(system('ethanol.xyz'), 'ethanol', candidates, index.default, { dir: index.default, config: water.config, auto: false }, true)).toBeNull();
  });

  test.runIf(hasOrganics)('water after an automatic switch goes back to the default; a model the user chose is kept', () => {
    const org = byDir(ORGANICS);
    for (const file of ['water64_box.xyz', 'water8.xyz', 'water.xyz']) {
      const st = system(file);
      expect(runErrors(st, org.config), file).toEqual([]); // the organics model could run it (H and O)…
      const back = chooseModelFor(st, file, candidates, index.default, { dir: ORGANICS, config: org.config, auto: true });
      expect(back, file).toEqual({ dir: 'water-spcfw-smooth', name: 'water-spcfw-smooth', reason: `water-spcfw-smooth is the default model and runs ${file}` });
      // …and does when the user picked it.
      expect(chooseModelFor(st, file, candidates, index.default, { dir: ORGANICS, config: org.config, auto: false }), file).toBeNull();
    }
    // The default runs water: nothing to change.
    expect(chooseModelFor(system('water8.xyz'), 'w8', candidates, index.default, { dir: index.default, config: byDir(index.default).config, auto: false })).toBeNull();
    // An organic molecule after another one stays on the organics model (picked automatically or not).
    expect(chooseModelFor(system('caffeine.xyz'), 'caffeine', candidates, index.default, { dir: ORGANICS, config: org.config, auto: true })).toBeNull();
  });

  test('the Na+/Cl- pair goes to the first listed ionic model; a model given as files is replaced only when it refuses', () => {
    const nacl = system('nacl_pair_box.xyz');
    const water = byDir(index.default);
    const choice = chooseModelFor(nacl, 'nacl', candidates, index.default, { dir: index.default, config: water.config, auto: false });
    const firstFit = candidates.find((c) => runErrors(nacl, c.config).length === 0)!;
    expect(firstFit.dir).toBe('ionic-gas-global');
    expect(choice?.dir).toBe('ionic-gas-global');
    // Files the user dropped (no index dir): kept while they fit, replaced when they refuse.
    expect(chooseModelFor(system('water8.xyz'), 'w8', candidates, index.default, { dir: null, config: water.config, auto: false })).toBeNull();
    const nacl2 = chooseModelFor(nacl, 'nacl', candidates, index.default, { dir: null, config: water.config, auto: false });
    expect(nacl2?.dir).toBe('ionic-gas-global');
    expect(nacl2?.reason).toMatch(/^water-spcfw-smooth cannot run nacl \(trained on H, O only, not Na, Cl\); ionic-gas-global can \(elements Na, Cl\)$/);
    if (hasOrganics) expect(chooseModelFor(system('ethanol.xyz'), 'ethanol', candidates, index.default, { dir: null, config: water.config, auto: false })?.dir).toBe(ORGANICS);
  });

  test('no listed model runs it: no switch, the loaded model refuses as before; no loaded model: nothing decided', () => {
    const water = byDir(index.default);
    const silicon = readStructure('2\nSi2\nSi 0 0 0\nSi 0 0 2.35\n', 'si2.xyz');
    expect(candidates.every((c) => runErrors(silicon, c.config).length > 0)).toBe(true);
    expect(chooseModelFor(silicon, 'Si2', candidates, index.default, { dir: index.default, config: water.config, auto: false })).toBeNull();
    // Spin 101 is outside every embedding, the organics model's included.
    const badSpin = { ...system('ethanol.xyz'), spin: 101 };
    expect(chooseModelFor(badSpin, 'ethanol', candidates, index.default, { dir: index.default, config: water.config, auto: false })).toBeNull();
    expect(chooseModelFor(system('ethanol.xyz'), 'ethanol', candidates, index.default, null)).toBeNull();
  });

  test('an index entry whose model.json cannot be read is left out, the others kept', async () => {
    const list = await readCandidates({ models: [{ dir: 'no-such-model', name: 'x' }, ...index.models] },
      async (dir) => readFileSync(join(MODELS, dir, 'model.json'), 'utf8'));
    expect(list.map((c) => c.dir)).toEqual(index.models.map((m) => m.dir));
  });
});
