import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { assembleModel } from '../../src/model/load';
import { parameterCount } from '../../src/model/weights';
import { parseModelConfig } from '../../src/model/modelJson';
import { accuracyLine, cardSummary, elementSymbols, summarizeModel } from '../../src/ui/model/summary';

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

test('the summary lists the elements a model knows by symbol, or none with the loader warning when the file does not say', () => {
  const water = assembleModel(
    readFileSync('public/models/water-spcfw-small/model.json', 'utf8'),
    readFileSync('public/models/water-spcfw-small/weights.safetensors'),
  );
  const w = summarizeModel(water, 'shipped');
  expect(w.elements).toEqual(['H', 'O']);
  expect(w.warnings).toEqual([]);
  const ionic = summarizeModel(
    assembleModel(readFileSync('public/models/ionic-gas-global/model.json', 'utf8'), readFileSync('public/models/ionic-gas-global/weights.safetensors')),
    'shipped',
  );
  expect(ionic.elements).toEqual(['Na', 'Cl']);
  // The test fixture predates "elements": unknown, and the loader's warning is carried to the panel.
  const old = summarizeModel(assembleModel(readFileSync(`${dir}/model.json`, 'utf8'), readFileSync(`${dir}/weights.safetensors`)), 'files');
  expect(old.elements).toBeNull();
  expect(old.warnings).toHaveLength(1);
  expect(old.warnings[0]).toMatch(/does not list the elements/);
});

test("README's table of shipped models gives each model's elements as its model.json does", () => {
  const readme = readFileSync('README.md', 'utf8');
  const index = JSON.parse(readFileSync('public/models/index.json', 'utf8')) as { models: { dir: string }[] };
  expect(index.models.length).toBeGreaterThan(0);
  for (const { dir } of index.models) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${dir}\``));
    expect(row, `README row for ${dir}`).toBeDefined();
    const listed = row!.split('|')[2].trim();
    const config = parseModelConfig(readFileSync(`public/models/${dir}/model.json`, 'utf8'));
    expect(listed).toBe(elementSymbols(config.elements!).join(', '));
  }
});
