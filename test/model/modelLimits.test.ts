// model.json hardening: the "elements" list, numeric ranges, nesting depth and key lengths (issue 12).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/model/errors';
import { assembleModel } from '../../src/model/load';
import { configWarnings, parseModelConfig, validateModelConfig } from '../../src/model/modelJson';
import { serializeSafetensors } from '../../src/model/safetensors';
import { randomTensors, tinyConfigObject } from './helpers';

function problemsOfText(text: string): string[] {
  try {
    parseModelConfig(text, 'model.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return (e as ModelLoadError).problems;
  }
  throw new Error('expected a ModelLoadError');
}
const problemsOf = (obj: unknown) => problemsOfText(JSON.stringify(obj));

/** Time of fn in ms. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

describe('model.json "elements"', () => {
  it('is read as a sorted list of atomic numbers; absent means unknown, with a warning', () => {
    const obj = tinyConfigObject();
    obj.elements = [1, 6, 8];
    expect(parseModelConfig(JSON.stringify(obj)).elements).toEqual([1, 6, 8]);
    const old = tinyConfigObject();
    const c = parseModelConfig(JSON.stringify(old), 'old/model.json');
    expect(c.elements).toBeNull();
    expect(configWarnings(c, 'old/model.json')).toEqual([
      'old/model.json does not list the elements the model was trained on ("elements"), so structures are not checked ' +
        'against them: results for elements the model never saw are meaningless',
    ]);
    expect(configWarnings(parseModelConfig(JSON.stringify(obj)))).toEqual([]);
  });

  it('the loader returns the warning with the model instead of printing it', () => {
    const obj = tinyConfigObject();
    const model = assembleModel(JSON.stringify(obj), serializeSafetensors(randomTensors(validateModelConfig(obj), 3)));
    expect(model.config.elements).toBeNull();
    expect(model.warnings).toHaveLength(1);
    expect(model.warnings![0]).toMatch(/does not list the elements/);
    obj.elements = [1, 8];
    expect(assembleModel(JSON.stringify(obj), serializeSafetensors(randomTensors(validateModelConfig(obj), 3))).warnings).toEqual([]);
  });

  it('refuses unsorted, repeated, non-integer, out-of-range and unembeddable elements', () => {
    const withElements = (elements: unknown, edit: (o: Record<string, any>) => void = () => {}) => {
      const o = tinyConfigObject();
      o.elements = elements;
      edit(o);
      return problemsOf(o);
    };
    expect(withElements([8, 1])).toEqual(['model.json: "elements" must be sorted ascending without repeats (atomic numbers), but 1 follows 8']);
    expect(withElements([1, 1])).toEqual(['model.json: "elements" must be sorted ascending without repeats (atomic numbers), but 1 follows 1']);
    for (const bad of [[0], [1.5], [119], ['H'], 'H', [-1]]) {
      expect(withElements(bad), JSON.stringify(bad)).toEqual([
        `model.json: "elements" must be null or a list of atomic numbers (whole numbers 1 to 118), got ${JSON.stringify(bad)}`,
      ]);
    }
    expect(withElements([])).toEqual(['model.json: "elements" is empty; list the atomic numbers the model was trained on, or use null for unknown']);
    // max_num_elements is 20 in the tiny config: Z = 26 has no embedding row
    expect(withElements([1, 26])).toEqual([
      'model.json: "elements" lists Z = 26 but the embedding has rows for Z < architecture.max_num_elements = 20',
    ]);
    expect(withElements([1, 8], (o) => (o.normalization.element_references = [0, -1]))).toEqual([
      'model.json: "elements" lists Z = 8 but normalization.element_references has entries only for Z < 2',
    ]);
  });

  it('is present in every shipped model', () => {
    const root = join(__dirname, '..', '..', 'public', 'models');
    const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { models: { dir: string }[] };
    const found: Record<string, number[] | null> = {};
    for (const m of index.models) {
      found[m.dir] = parseModelConfig(readFileSync(join(root, m.dir, 'model.json'), 'utf8')).elements;
    }
    expect(found).toEqual({
      'ionic-gas-global': [11, 17], 'ionic-gas-local': [11, 17], 'organics-gfn2-small': [1, 6, 7, 8], 'water-spcfw-small': [1, 8], 'water-spcfw-smooth': [1, 8],
    });
  });
});

describe('model.json ranges', () => {
  it('refuses num_layers: 1e9 at once, naming the field and the range', () => {
    const obj = tinyConfigObject();
    obj.architecture.num_layers = 1e9;
    let problems: string[] = [];
    expect(timed(() => (problems = problemsOf(obj)))).toBeLessThan(200);
    expect(problems).toEqual([
      'model.json: "architecture.num_layers" is 1000000000, outside the range 1 to 256 that any real model lies in',
    ]);
  });

  it('range-checks every numeric field', () => {
    const cases: [string, string, number, string][] = [
      ['architecture', 'hidden_size', 1 << 20, 'outside the range 1 to 16384'],
      ['architecture', 'num_heads', 100000, 'outside the range 1 to 256'],
      ['architecture', 'knn_k', 5000, 'outside the range 1 to 1024'],
      ['architecture', 'knn_candidates', 5000, 'outside the range 1 to 1024'],
      ['architecture', 'cutoff', 1000, 'is 1000 Å, outside the range 0.1 Å to 100 Å'],
      ['architecture', 'rbf_size', 1e6, 'outside the range 1 to 16384'],
      ['architecture', 'sh_lmax', 100, 'outside the range 0 to 16'],
      ['architecture', 'boo_lmax', 100, 'outside the range 0 to 32'],
      ['architecture', 'max_num_elements', 1e6, 'outside the range 2 to 1024'],
      ['architecture', 'erope_num_freq', 1e6, 'outside the range 1 to 4096'],
      ['architecture', 'ffn_multiplier', 1000, 'outside the range 1 to 64'],
      ['architecture', 'rmsnorm_eps', 0.5, 'outside the range 1e-30 to 0.1'],
      ['normalization', 'energy_scale', 1e300, 'outside the range 1e-12 to 1000000000000'],
      ['normalization', 'energy_shift', -1e300, 'outside the range -1000000000000 eV to 1000000000000 eV'],
    ];
    for (const [section, key, value, words] of cases) {
      const obj = tinyConfigObject();
      obj[section][key] = value;
      if (key === 'knn_k') obj.architecture.knn_candidates = 5000;
      const problems = problemsOf(obj);
      expect(problems.some((p) => p.includes(`"${section}.${key}"`) && p.includes(words)), `${key}: ${problems.join(' | ')}`).toBe(true);
    }
    const refs = tinyConfigObject();
    refs.normalization.element_references = [0, -1e9];
    expect(problemsOf(refs)).toEqual([
      'model.json: "normalization.element_references"[1] is -1000000000 eV; reference energies of real atoms lie within ±10000000 eV',
    ]);
  });

  it('passes the released md_NeNo architecture (hidden 640, 10 layers, 10 heads, k 30)', () => {
    const obj = tinyConfigObject();
    Object.assign(obj.architecture, {
      hidden_size: 640, num_layers: 10, num_heads: 10, max_num_elements: 100, cutoff: 6, knn_k: 30, knn_candidates: 50,
      rbf_size: 512, sh_lmax: 5, boo_lmax: 9, use_lae: false, lae_frequency_list: [20, 10, 4, 10, 20],
      use_erope: false, erope_num_freq: 32, use_charge_spin: true,
    });
    obj.normalization.element_references = Array.from({ length: 100 }, (_, z) => (z === 0 ? 0 : -1000 * z));
    obj.elements = Array.from({ length: 83 }, (_, i) => i + 1);
    expect(validateModelConfig(obj).architecture.hidden_size).toBe(640);
  });
});

describe('model.json text limits', () => {
  it('refuses a 5,000-deep nested array in hidden_size quickly, without overflowing the stack', () => {
    const obj = tinyConfigObject();
    const text = JSON.stringify(obj).replace('"hidden_size":8', `"hidden_size":${'['.repeat(5000)}8${']'.repeat(5000)}`);
    let problems: string[] = [];
    expect(timed(() => (problems = problemsOfText(text)))).toBeLessThan(200);
    expect(problems).toEqual([
      expect.stringMatching(/^model\.json: values nest more than 32 levels deep \(at character \d+\); no field of this file needs that$/),
    ]);
    // a parsed object handed in directly is walked without recursion
    let deep: unknown = 8;
    for (let i = 0; i < 100000; i++) deep = [deep];
    const direct = tinyConfigObject();
    direct.architecture.hidden_size = deep;
    expect(() => validateModelConfig(direct)).toThrow(/values nest more than 32 levels deep/);
  });

  it('refuses a 64 KiB unknown key quickly, without echoing it', () => {
    const obj = tinyConfigObject();
    obj.architecture['x'.repeat(65536)] = 1;
    let problems: string[] = [];
    expect(timed(() => (problems = problemsOf(obj)))).toBeLessThan(200);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^model\.json: a key at character \d+ is 65536 characters long \(at most 256\)$/);
    // handed in directly (no text scan): reported, shortened, no edit-distance hint
    const direct = validateError(obj);
    expect(direct).toEqual([`model.json: unknown key "architecture.${'x'.repeat(37)}...(65536 characters)"`]);
  });

  it('reports thousands of stray keys in bounded time, listing the first ten', () => {
    const obj = tinyConfigObject();
    for (let i = 0; i < 20000; i++) obj.architecture[`stray_key_${i}`] = i;
    let problems: string[] = [];
    expect(timed(() => (problems = problemsOf(obj)))).toBeLessThan(1000);
    expect(problems[0]).toBe('model.json: 20000 unknown keys in "architecture." (the first 10 follow)');
    expect(problems).toHaveLength(11);
  });

  it('refuses a model.json over 4 MiB before parsing it', () => {
    const obj = tinyConfigObject();
    obj.description = 'x'.repeat(5 * 1024 * 1024);
    expect(problemsOf(obj)[0]).toMatch(/^model\.json: the text has \d+ characters, more than the 4194304 this file may have$/);
  });
});

function validateError(obj: unknown): string[] {
  try {
    validateModelConfig(obj);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return (e as ModelLoadError).problems;
  }
  throw new Error('expected a ModelLoadError');
}

describe('model.json string lengths', () => {
  it('refuses a 70,000-character name, version, description or prefix (they appear in every message)', () => {
    const cases: [string, string | null, number, string][] = [
      ['name', null, 70000, '"name" is 70000 characters long (at most 128)'],
      ['version', null, 65, '"version" is 65 characters long (at most 64)'],
      ['description', null, 5000, '"description" is 5000 characters long (at most 4096)'],
      ['energy_prefix', 'heads', 300, '"heads.energy_prefix" is 301 characters long (at most 256)'],
    ];
    for (const [key, section, length, words] of cases) {
      const obj = tinyConfigObject();
      const value = 'n'.repeat(length) + (key.endsWith('prefix') ? '.' : '');
      if (section) obj[section][key] = value;
      else obj[key] = value;
      expect(problemsOf(obj), key).toEqual([`model.json: ${words}`]);
    }
  });
});
