import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelConfig, Tensor } from '../../src/model/config';
import { validateModelConfig } from '../../src/model/modelJson';
import { parseSafetensors, serializeSafetensors } from '../../src/model/safetensors';
import { checkWeights, expectedTensors, parameterCount } from '../../src/model/weights';
import { randomTensors, tinyConfigObject } from './helpers';

const GOLDEN_DIR = join(__dirname, '..', '..', '..', 'shared', 'reference', 'allscaip-golden');
const GOLDEN_CASES = [
  'case1_water8_allflags',
  'case2_water8_released_flags',
  'case3_waterbox12_pbc_allflags',
  'case4_dense70_truncation',
];

/** model.json architecture from a fairchem backbone config (the mapping of docs/model-format.md). */
function configFromBackbone(bc: Record<string, any>, regressStress: boolean): ModelConfig {
  const obj = tinyConfigObject();
  obj.architecture = {
    hidden_size: bc.hidden_size,
    num_layers: bc.num_layers,
    num_heads: bc.atten_num_heads,
    max_num_elements: bc.max_num_elements,
    cutoff: bc.max_radius,
    knn_k: bc.knn_k,
    knn_soft: bc.knn_soft,
    knn_sigmoid_scale: bc.knn_sigmoid_scale,
    knn_lse_scale: bc.knn_lse_scale,
    knn_candidates: bc.knn_use_low_mem ? bc.knn_k + 20 : 10000,
    rbf_size: bc.edge_distance_expansion_size,
    sh_lmax: bc.edge_direction_expansion_size - 1,
    boo_lmax: bc.node_direction_expansion_size - 1,
    ffn_multiplier: bc.ffn_hidden_layer_multiplier,
    output_multiplier: bc.output_hidden_layer_multiplier,
    use_node_attention: bc.use_node_path,
    use_lae: bc.use_freq_mask,
    lae_frequency_list: bc.freequency_list,
    use_erope: bc.use_sincx_mask,
    erope_num_freq: bc.attn_num_freq,
    use_charge_spin: true,
    rmsnorm_eps: 1.1920928955078125e-7,
  };
  obj.heads.regress_stress = regressStress;
  return validateModelConfig(obj);
}

function configOf(mutate: (o: Record<string, any>) => void = () => {}): ModelConfig {
  const obj = tinyConfigObject();
  mutate(obj);
  return validateModelConfig(obj);
}

function check(config: ModelConfig, tensors: Map<string, Tensor>) {
  return checkWeights(config, parseSafetensors(serializeSafetensors(tensors), 'weights.safetensors'), 'weights.safetensors');
}

describe('expected tensors', () => {
  it('match the golden state dicts of the public code, key for key and shape for shape', () => {
    for (const name of GOLDEN_CASES) {
      const golden = JSON.parse(readFileSync(`${GOLDEN_DIR}/${name}.json`, 'utf8'));
      const config = configFromBackbone(golden.backbone_config, 'stress' in golden.outputs);
      const expected = expectedTensors(config).map((t) => [t.name, t.shape]);
      const actual = Object.entries(golden.state_dict as Record<string, { shape: number[] }>).map(([k, v]) => [k, v.shape]);
      expect(expected, name).toEqual(actual);
    }
  });

  it('give the parameter counts of the released md_NeNo model (spec §3, §6)', () => {
    const md = configOf((o) => {
      Object.assign(o.architecture, {
        hidden_size: 640, num_layers: 10, num_heads: 10, max_num_elements: 110, rbf_size: 512, sh_lmax: 5,
        boo_lmax: 9, use_lae: false, use_erope: false, erope_num_freq: 32, knn_k: 30, knn_candidates: 50,
      });
    });
    const backbone = expectedTensors(md).filter((t) => t.name.startsWith('backbone.'));
    expect(backbone).toHaveLength(434);
    expect(parameterCount(md)).toBe(85_150_130 + 822_401);
    const direct = configOf((o) => {
      Object.assign(o.architecture, md.architecture);
      Object.assign(o.heads, { forces: 'direct', energy_prefix: 'output_heads.omol_energy.', force_prefix: 'output_heads.forces.', regress_stress: false });
    });
    expect(parameterCount(direct)).toBe(85_150_130 + 822_401 + 824_963);
    expect(expectedTensors(direct).slice(-5).map((t) => [t.name, t.shape])).toEqual([
      ['output_heads.forces.node_norm.weight', [640]],
      ['output_heads.forces.force_ffn.0.0.weight', [1280, 640]],
      ['output_heads.forces.force_ffn.0.0.bias', [1280]],
      ['output_heads.forces.force_ffn.1.0.weight', [3, 1280]],
      ['output_heads.forces.force_ffn.1.0.bias', [3]],
    ]);
  });

  it('drop node attention (but keep the node FFN) and charge/spin when the flags are off', () => {
    const c = configOf((o) => {
      o.architecture.use_node_attention = false;
      o.architecture.use_charge_spin = false;
    });
    const names = expectedTensors(c).map((t) => t.name);
    expect(names.some((n) => n.includes('node_attention'))).toBe(false);
    expect(names.some((n) => n.includes('charge'))).toBe(false);
    expect(names).toContain('backbone.transformer_blocks.1.node_ffn.ffn.1.0.bias');
  });
});

describe('checkWeights', () => {
  it('accepts a complete file and returns every tensor', () => {
    const config = configOf();
    const tensors = randomTensors(config);
    const result = check(config, tensors);
    expect(result.problems).toEqual([]);
    expect(result.tensors.size).toBe(tensors.size);
    const name = 'backbone.input_block.node_norm.weight';
    expect(Array.from(result.tensors.get(name)!.data)).toEqual(Array.from(tensors.get(name)!.data));
  });

  it('reports a missing tensor, a wrong shape, NaN and Inf values and an unexpected tensor, all at once', () => {
    const config = configOf((o) => (o.architecture.use_erope = false));
    const withErope = configOf();
    const tensors = randomTensors(withErope);
    tensors.delete('backbone.transformer_blocks.0.edge_ffn.ffn_res_scale');
    tensors.set('backbone.input_block.node_norm.weight', { shape: [8], data: new Float32Array(8) });
    tensors.get('backbone.input_block.atomic_embedding.weight')!.data[5] = Number.NaN;
    const inf = tensors.get('backbone.transformer_blocks.1.node_ffn.ffn_norm.weight')!.data;
    inf[2] = Number.POSITIVE_INFINITY;
    inf[3] = Number.NaN;
    expect(check(config, tensors).problems).toEqual([
      'weights.safetensors: tensor backbone.input_block.atomic_embedding.weight contains 1 NaN value (first at flat index 5)',
      'weights.safetensors: tensor backbone.input_block.node_norm.weight has shape [8] but the config needs [16]',
      'weights.safetensors: tensor backbone.transformer_blocks.0.edge_ffn.ffn_res_scale is missing (the config needs shape [])',
      'weights.safetensors: tensor backbone.transformer_blocks.1.node_ffn.ffn_norm.weight contains 1 NaN and 1 infinite values (first at flat index 2)',
      'weights.safetensors: unexpected tensor backbone.transformer_blocks.0.node_attention.radial_weight; the weights have ERoPE: set architecture.use_erope to true',
      'weights.safetensors: unexpected tensor backbone.transformer_blocks.1.node_attention.radial_weight; the weights have ERoPE: set architecture.use_erope to true',
    ]);
  });

  it('points at the right head prefix when the energy head is under another name', () => {
    const config = configOf();
    const renamed = new Map<string, Tensor>();
    for (const [k, v] of randomTensors(config)) renamed.set(k.replace('output_heads.energyandforcehead.head.', 'output_heads.omol_energy.'), v);
    const problems = check(config, renamed).problems;
    expect(problems).toHaveLength(5 + 5 + 1);
    expect(problems[0]).toBe(
      'weights.safetensors: tensor output_heads.energyandforcehead.head.node_norm.weight is missing (the config needs shape [8])',
    );
    expect(problems.at(-1)).toBe(
      'weights.safetensors: the energy head\'s tensors are under "output_heads.omol_energy.": set heads.energy_prefix to that',
    );
  });
});
