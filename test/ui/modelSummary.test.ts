import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { assembleModel } from '../../src/model/load';
import { parameterCount } from '../../src/model/weights';
import { accuracyLine, cardSummary, summarizeModel } from '../../src/ui/model/summary';

const dir = 'test/fixtures/molecule-released-flags';

test('model summary of a real model file: size, flags, cutoff and provenance card', () => {
  const model = assembleModel(readFileSync(`${dir}/model.json`, 'utf8'), readFileSync(`${dir}/weights.safetensors`));
  const s = summarizeModel(model, 'files');
  let tensorsTotal = 0;
  for (const t of model.tensors.values()) tensorsTotal += t.data.length;
  expect(s.parameterCount).toBe(parameterCount(model.config));
  expect(s.parameterCount).toBe(tensorsTotal); // every tensor in the file is a parameter the config needs
  expect(s.cutoff).toBe(6);
  expect(s.flags).toEqual(['conservative forces', 'stress', 'node attention', 'charge/spin', 'soft kNN']);
  expect(s.card[0]).toMatch(/^source: training\/make_fixtures\.py/);
  expect(s.cardText).toBeNull();
});

test('card summary keeps the opening paragraphs as plain text; metrics give the accuracy line', () => {
  const card = readFileSync('training/cards/water.md', 'utf8');
  const text = cardSummary(card);
  expect(text.startsWith('What it is. A small AllScAIP model')).toBe(true);
  expect(text).not.toMatch(/\*\*|^#/m);
  expect(text.split('\n\n')).toHaveLength(2);
  expect(accuracyLine({ energy_mae_meV_per_atom: 1.234, force_mae_meV_per_A: 45.67, n_test_frames: 40 })).toBe(
    'held-out MAE: energy 1.23 meV/atom, forces 45.7 meV/Å (40 frames)',
  );
  expect(accuracyLine({})).toBeNull();
});
