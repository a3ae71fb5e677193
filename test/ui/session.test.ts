// Shareable links (src/ui/session/hash.ts): every setting survives encode → decode; a malformed or unknown field
// is named and its default kept; hashes that are no session at all decode to null.
import { expect, test } from 'vitest';
import { decodeSession, describeProblems, encodeSession, type Session } from '../../src/ui/session/hash';

const defaults: Session = {
  model: null, system: null,
  params: { ensemble: 'nvt-langevin', temperature: 300, pressure: 1.01325, timestep: 0.5, timestepAuto: true, friction: 0.01, tau: 100, stepsPerFrame: 5, seed: 1, provider: 'allscaip' },
  view: { wrap: true, images: false, bonds: true }, allowUntrainedElements: false, pullStiffness: 2,
};

test('every field survives the round trip', () => {
  const cases: Session[] = [
    {
      model: { kind: 'shipped', dir: 'ionic-gas-global' }, system: { kind: 'builtin', file: 'water64_box.xyz', repeat: [2, 1, 3] },
      params: { ensemble: 'npt', temperature: 312.5, pressure: -250.75, timestep: 0.25, timestepAuto: false, friction: 0.0375, tau: 250, stepsPerFrame: 17, seed: 123456789, provider: 'lj' },
      view: { wrap: false, images: true, bonds: false }, allowUntrainedElements: true, pullStiffness: 0.125,
    },
    {
      model: { kind: 'files', names: ['my model.json', 'weights, v2.safetensors'.replace(',', '')] }, system: { kind: 'file', name: 'näme & co #1.extxyz', repeat: [1, 1, 1] },
      params: { ...defaults.params, ensemble: 'nve', seed: -7 }, view: defaults.view, allowUntrainedElements: false, pullStiffness: 5,
    },
  ];
  for (const s of cases) {
    const hash = encodeSession(s);
    expect(hash.startsWith('#v=1&')).toBe(true);
    const back = decodeSession(hash, defaults)!;
    expect(back.problems).toEqual([]);
    expect(back.session).toEqual(s);
  }
});

test('bad values are named, their defaults kept, the good ones applied', () => {
  const hash = '#v=1&model=../etc&system=water.xyz&repeat=2x0x1&ensemble=nvx&T=hot&P=1e99&dt=-1&friction=0.02&tau=0&spf=2.5&seed=1.5&forces=dft&wrap=yes&images=1&untrained=2&pullk=-3&colour=red';
  const { session, problems } = decodeSession(hash, defaults)!;
  const fields = problems.map((p) => p.field).sort();
  expect(fields).toEqual(['P', 'T', 'colour', 'dt', 'ensemble', 'forces', 'model', 'pullk', 'repeat', 'seed', 'spf', 'tau', 'untrained', 'wrap'].sort());
  expect(problems.find((p) => p.field === 'colour')!.problem).toMatch(/unknown/);
  expect(problems.find((p) => p.field === 'T')!.problem).toMatch(/"hot"/);
  // Defaults where the link was wrong, its values where it was right.
  expect(session.model).toBeNull();
  expect(session.system).toEqual({ kind: 'builtin', file: 'water.xyz', repeat: [1, 1, 1] });
  expect(session.params).toEqual({ ...defaults.params, friction: 0.02 });
  expect(session.view).toEqual({ wrap: true, images: true, bonds: true });
  expect(session.pullStiffness).toBe(2);
  expect(describeProblems(problems)).toMatch(/^This link has 14 problems; defaults are used for: .*colour \(unknown field, ignored\)/);
});

test('a repeated field uses its first value and says so; both a shipped model and files keep the shipped one', () => {
  const { session, problems } = decodeSession('#v=1&seed=4&seed=5&model=a&modelfiles=b.json', defaults)!;
  expect(session.params.seed).toBe(4);
  expect(session.model).toEqual({ kind: 'shipped', dir: 'a' });
  expect(problems.map((p) => p.field).sort()).toEqual(['modelfiles', 'seed']);
});

test('hashes that are no session', () => {
  for (const h of ['', '#', '#top', '#seed=3']) expect(decodeSession(h, defaults)).toBeNull();
  const other = decodeSession('#v=7&seed=3', defaults)!;
  expect(other.session.params.seed).toBe(3);
  expect(other.problems.map((p) => p.field)).toEqual(['v']);
});
