import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/model/errors';
import { parseModelConfig, validateModelConfig } from '../../src/model/modelJson';
import { tinyConfigObject } from './helpers';

function problemsOf(obj: unknown): string[] {
  try {
    validateModelConfig(obj, 'model.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return (e as ModelLoadError).problems;
  }
  throw new Error('expected a ModelLoadError');
}

describe('model.json', () => {
  it('accepts a valid config and fills optional keys', () => {
    const obj = tinyConfigObject();
    delete obj.description;
    delete obj.provenance;
    const c = parseModelConfig(JSON.stringify(obj));
    expect(c.architecture.hidden_size).toBe(8);
    expect(c.heads.forces).toBe('conservative');
    expect(c.description).toBe('');
    expect(c.provenance).toEqual({});
  });

  it('reports an unknown key with a suggestion', () => {
    const obj = tinyConfigObject();
    obj.architecture.hiden_size = obj.architecture.hidden_size;
    delete obj.architecture.hidden_size;
    expect(problemsOf(obj)).toEqual([
      'model.json: unknown key "architecture.hiden_size" (did you mean "hidden_size"?)',
      'model.json: "architecture.hidden_size" is missing (a positive whole number)',
    ]);
    const top = tinyConfigObject();
    top.colour = 'blue';
    expect(problemsOf(top)).toEqual(['model.json: unknown key "colour"']);
  });

  it('reports every wrong type at once', () => {
    const obj = tinyConfigObject();
    obj.architecture.num_layers = 2.5;
    obj.architecture.use_lae = 'yes';
    obj.architecture.cutoff = -1;
    obj.normalization.element_references = [0, 'x'];
    delete obj.heads;
    expect(problemsOf(obj)).toEqual([
      'model.json: "heads" is missing (an object)',
      'model.json: "architecture.num_layers" must be a positive whole number, got 2.5',
      'model.json: "architecture.cutoff" must be a positive number, got -1',
      'model.json: "architecture.use_lae" must be true or false, got "yes"',
      'model.json: "normalization.element_references" must be null or a list of finite numbers, got [0,"x"]',
    ]);
  });

  it('reports values that do not fit together', () => {
    const obj = tinyConfigObject();
    obj.architecture.num_heads = 3;
    obj.architecture.knn_candidates = 4;
    expect(problemsOf(obj)).toEqual([
      'model.json: architecture.hidden_size (8) must be divisible by architecture.num_heads (3)',
      'model.json: architecture.knn_candidates (4) must be at least architecture.knn_k (6)',
    ]);
    const lae = tinyConfigObject();
    lae.architecture.lae_frequency_list = [2, 2, 2, 2, 2];
    expect(problemsOf(lae)).toEqual([
      'model.json: architecture.lae_frequency_list must have 5 entries (degrees l = 0..4) summing to the head dimension hidden_size/num_heads = 4, got [2,2,2,2,2] (sum 10)',
    ]);
  });

  it('checks the heads section', () => {
    const direct = tinyConfigObject();
    direct.heads.forces = 'direct';
    expect(problemsOf(direct)).toEqual([
      'model.json: "heads.force_prefix" must name the direct force head (e.g. "output_heads.forces.") when heads.forces is "direct"',
      'model.json: "heads.regress_stress" must be false for a direct-force model (stress needs the energy gradient)',
    ]);
    const bad = tinyConfigObject();
    bad.heads.forces = 'gradient';
    bad.heads.energy_prefix = 'output_heads.energy';
    expect(problemsOf(bad)).toEqual([
      'model.json: "heads.forces" must be "conservative" or "direct", got "gradient"',
      'model.json: "heads.energy_prefix" must end with "." (tensor names are prefix + "node_norm.weight"), got "output_heads.energy"',
    ]);
  });

  it('rejects other formats, versions and broken JSON with one clear message', () => {
    expect(() => parseModelConfig('{"format": "onnx"}', 'm.json')).toThrow(
      'm.json: not a scaip-web model file ("format" is "onnx", expected "scaip-web-model")',
    );
    const v2 = tinyConfigObject();
    v2.format_version = 2;
    expect(problemsOf(v2)).toEqual(['model.json: format_version 2 is not supported (this version of scaip-web reads 1)']);
    expect(() => parseModelConfig('{"format": ', 'm.json')).toThrow(/^m\.json: not valid JSON/);
    expect(problemsOf([1, 2])).toEqual(['model.json: expected a JSON object at the top level, got [1,2]']);
  });
});
