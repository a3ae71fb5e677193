// Reads the public-code golden cases (../shared/reference/allscaip-golden) into our types.

import { readFileSync } from 'node:fs';
import type { LoadedModel, ModelConfig, Tensor } from '../../src/model/config';
import type { Structure } from '../../src/io/structure';

export const GOLDEN_CASES = [
  'case1_water8_allflags', 'case2_water8_released_flags', 'case3_waterbox12_pbc_allflags', 'case4_dense70_truncation',
] as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GoldenJson = any;

export function readGolden(name: string): GoldenJson {
  const url = new URL(`../../../shared/reference/allscaip-golden/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

export function flat(t: { data: unknown }): number[] {
  return (t.data as (number | string)[]).map((v) => (typeof v === 'string' ? Number(v.replace('inf', 'Infinity')) : v));
}

export function goldenModel(g: GoldenJson): LoadedModel {
  const b = g.backbone_config;
  const config: ModelConfig = {
    format: 'scaip-web-model', format_version: 1, name: g.case, version: '0', description: g.description,
    provenance: { source: 'allscaip-golden' }, weights_file: 'weights.safetensors', elements: null,
    architecture: {
      hidden_size: b.hidden_size, num_layers: b.num_layers, num_heads: b.atten_num_heads,
      max_num_elements: b.max_num_elements, cutoff: b.max_radius, knn_k: b.knn_k, knn_soft: b.knn_soft,
      knn_sigmoid_scale: b.knn_sigmoid_scale, knn_lse_scale: b.knn_lse_scale,
      knn_candidates: b.knn_use_low_mem ? b.knn_k + 20 : Number.MAX_SAFE_INTEGER,
      rbf_size: b.edge_distance_expansion_size, sh_lmax: b.edge_direction_expansion_size - 1,
      boo_lmax: b.node_direction_expansion_size - 1, ffn_multiplier: b.ffn_hidden_layer_multiplier,
      output_multiplier: b.output_hidden_layer_multiplier, use_node_attention: b.use_node_path,
      use_lae: b.use_freq_mask, lae_frequency_list: b.freequency_list, use_erope: b.use_sincx_mask,
      erope_num_freq: b.attn_num_freq, use_charge_spin: true, rmsnorm_eps: 1.1920928955078125e-7,
      boo_envelope_weighted: false, erope_smooth_minimum_image: false, knn_candidate_margin: false,
    },
    heads: { forces: 'conservative', energy_prefix: 'output_heads.energyandforcehead.head.', force_prefix: null, regress_stress: b.regress_stress },
    normalization: { energy_scale: 1, energy_shift: 0, element_references: null },
  };
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(g.state_dict as Record<string, { shape: number[]; data: number[] }>))
    tensors.set(name, { shape: t.shape, data: Float32Array.from(t.data) });
  return { config, tensors };
}

export function goldenStructure(g: GoldenJson): Structure {
  const inp = g.inputs;
  const pos = (inp.pos.data ?? inp.pos) as number[] | number[][];
  const cell = inp.cell ? ((inp.cell.data ?? inp.cell) as number[] | number[][]) : null;
  const pbc = (inp.pbc.data ?? inp.pbc) as boolean[];
  return {
    numbers: Int32Array.from((inp.atomic_numbers.data ?? inp.atomic_numbers) as number[]),
    positions: Float64Array.from(pos.flat()),
    cell: cell ? Float64Array.from(cell.flat()) : null,
    pbc: [Boolean(pbc[0]), Boolean(pbc[1]), Boolean(pbc[2])],
    charge: Number(inp.charge?.data?.[0] ?? inp.charge ?? 0),
    spin: Number(inp.spin?.data?.[0] ?? inp.spin ?? 1),
  };
}
