import { readFileSync } from 'node:fs';
import { beforeEach, expect, test } from 'vitest';
import { readStructure } from '../../src/io/read';
import { parseModelConfig } from '../../src/model/modelJson';
import { emptyThermo, useWorkbench } from '../../src/ui/store';
import { checkForRun, loadSystem } from '../../src/ui/system/admit';

const water = parseModelConfig(readFileSync('public/models/water-spcfw-small/model.json', 'utf8'));
const ethanol = readStructure(
  '9\nethanol\nC 0 0 0\nC 1.512 0 0\nO 2.018 1.331 0\nH -0.386 -1.02 0\nH -0.386 0.51 0.883\nH -0.386 0.51 -0.883\nH 1.879 -0.519 0.89\nH 1.879 -0.519 -0.89\nH 2.985 1.3 0\n',
  'ethanol.xyz',
);
const waterBox = readStructure(readFileSync('public/systems/water64_box.xyz', 'utf8'), 'water64_box.xyz');

beforeEach(() => {
  useWorkbench.setState({
    modelConfig: water,
    allowUntrainedElements: false,
    params: { ...useWorkbench.getState().params, provider: 'allscaip' },
    system: null,
    systemName: '',
    systemError: null,
    systemWarnings: [],
    systemBlocked: false,
  });
});

test('ethanol with the water model: refused, naming carbon, its atoms, the model elements and the workbench override', () => {
  const { errors, warnings } = checkForRun(ethanol);
  expect(warnings).toEqual([]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/trained on H, O \(Z = 1, 8\) only; the structure has C \(atoms 0, 1\)/);
  expect(errors[0]).toMatch(/tick "allow elements this model was not trained on" in the model panel and load it again$/);
  // For the system already loaded (a model change), it reruns on ticking: no "load it again".
  expect(checkForRun(ethanol, true).errors[0]).toMatch(/in the model panel$/);
});

test('with the override the untrained element is a warning; with Lennard-Jones forces the model has nothing to say', () => {
  useWorkbench.setState({ allowUntrainedElements: true });
  const allowed = checkForRun(ethanol);
  expect(allowed.errors).toEqual([]);
  expect(allowed.warnings[0]).toMatch(/computing C \(atoms 0, 1\)/);
  useWorkbench.setState({ allowUntrainedElements: false, params: { ...useWorkbench.getState().params, provider: 'lj' } });
  expect(checkForRun(ethanol)).toEqual({ errors: [], warnings: [] });
});

test('a charge or spin the model cannot use is refused; close atoms are a warning naming the pair and distance', () => {
  expect(checkForRun({ ...waterBox, charge: 1 }).errors[0]).toMatch(/no charge\/spin embedding.*charge 1/);
  expect(checkForRun({ ...waterBox, spin: 3 }).errors[0]).toMatch(/spin 3/);
  expect(checkForRun(waterBox)).toEqual({ errors: [], warnings: [] });
  const close = readStructure('4\nclose\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\nH 1.21 0 0\n', 'close.xyz');
  const c = checkForRun(close);
  expect(c.errors).toEqual([]);
  expect(c.warnings).toHaveLength(1);
  expect(c.warnings[0]).toMatch(/atoms 1 \(H\) and 3 \(H\) at 0\.250 Å/);
});

test('a refused structure leaves the current system, its name, history and warnings as they were', () => {
  const thermo = emptyThermo();
  thermo.step.push(0, 5);
  useWorkbench.setState({ system: waterBox, systemName: 'water box', thermo, systemWarnings: ['earlier warning'] });
  expect(loadSystem(ethanol, 'ethanol')).toBe(false);
  const s = useWorkbench.getState();
  expect(s.system).toBe(waterBox);
  expect(s.systemName).toBe('water box');
  expect(s.thermo.step).toEqual([0, 5]);
  expect(s.systemWarnings).toEqual(['earlier warning']);
  expect(s.systemBlocked).toBe(false);
  expect(s.systemError).toMatch(/^ethanol was not loaded: model water-spcfw-small was trained on H, O/);
  expect(s.systemError).toMatch(/ — kept the current system \(water box\)$/);
  expect(s.notices.at(-1)?.level).toBe('error');
});
