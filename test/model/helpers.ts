// Test helpers: a small valid model.json object and seeded random float32 weights for it.

import type { ModelConfig, Tensor } from '../../src/model/config';
import { expectedTensors } from '../../src/model/weights';

export function tinyConfigObject(): Record<string, any> {
  return {
    format: 'scaip-web-model',
    format_version: 1,
    name: 'tiny-test',
    version: '0.0.1',
    description: 'tiny random model for loader tests',
    provenance: { source: 'test/model/helpers.ts' },
    weights_file: 'weights.safetensors',
    architecture: {
      hidden_size: 8,
      num_layers: 2,
      num_heads: 2,
      max_num_elements: 20,
      cutoff: 5.0,
      knn_k: 6,
      knn_soft: true,
      knn_sigmoid_scale: 0.2,
      knn_lse_scale: 0.1,
      knn_candidates: 10,
      rbf_size: 4,
      sh_lmax: 2,
      boo_lmax: 3,
      ffn_multiplier: 2,
      output_multiplier: 2,
      use_node_attention: true,
      use_lae: true,
      lae_frequency_list: [1, 1, 1, 0, 1],
      use_erope: true,
      erope_num_freq: 4,
      use_charge_spin: true,
      rmsnorm_eps: 1.1920928955078125e-7,
    },
    heads: {
      forces: 'conservative',
      energy_prefix: 'output_heads.energyandforcehead.head.',
      force_prefix: null,
      regress_stress: true,
    },
    normalization: { energy_scale: 1.5, energy_shift: -0.25, element_references: null },
  };
}

/** Deterministic float32 weights (a small LCG) with every tensor the config needs. */
export function randomTensors(config: ModelConfig, seed = 1): Map<string, Tensor> {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const out = new Map<string, Tensor>();
  for (const { name, shape } of expectedTensors(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = next();
    out.set(name, { shape, data });
  }
  return out;
}

/** A safetensors file assembled by hand from a header object and raw data bytes. */
export function safetensorsFromParts(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
