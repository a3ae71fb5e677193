import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { readStructure } from '../../src/io/read';
import { assembleModel } from '../../src/model/load';
import { UnsupportedSystemError } from '../../src/model/systemCheck';
import type { MdSettings } from '../../src/md/types';
import { buildEngine, type EngineRequest } from '../../src/ui/engine/factory';

const model = assembleModel(
  readFileSync('public/models/water-spcfw-small/model.json', 'utf8'),
  readFileSync('public/models/water-spcfw-small/weights.safetensors'),
);
const ethanol = readStructure(
  '9\nethanol\nC 0 0 0\nC 1.512 0 0\nO 2.018 1.331 0\nH -0.386 -1.02 0\nH -0.386 0.51 0.883\nH -0.386 0.51 -0.883\nH 1.879 -0.519 0.89\nH 1.879 -0.519 -0.89\nH 2.985 1.3 0\n',
  'ethanol.xyz',
);
const settings: MdSettings = {
  ensemble: 'nve', dt: 0.5, temperature: 0, pressure: 1, seed: 1, friction: 0.01, tauT: 100, nhcLength: 3,
  barostatInterval: 25, fireDtMax: 10, fireMaxStep: 0.2,
};
const request = (allowUntrainedElements: boolean, structure = ethanol): EngineRequest => ({
  provider: 'allscaip', model, device: null, structure, settings, resume: null, allowUntrainedElements,
});

test('the worker\'s engine set-up refuses ethanol for the water model unless the override came with it', async () => {
  await expect(buildEngine(request(false))).rejects.toThrow(UnsupportedSystemError);
  await expect(buildEngine(request(false))).rejects.toThrow(/trained on H, O \(Z = 1, 8\) only; the structure has C \(atoms 0, 1\)/);
  await expect(buildEngine(request(false, { ...ethanol, numbers: Int32Array.of(8, 1, 1), positions: Float64Array.of(0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0), charge: 2 }))).rejects.toThrow(/charge 2/);
  const engine = await buildEngine(request(true));
  const s = await engine.sample();
  expect(Number.isFinite(s.epot)).toBe(true);
  engine.destroy();
});
