// The tensors a model.json needs, named and shaped exactly as the reference PyTorch state dict
// (spec §6, confirmed against the golden state dicts), and the check of a weights file against them.
// nn.Linear weights are [out, in]; residual scales are 0-d tensors (shape []).

import type { ModelConfig, Tensor } from './config';
import type { SafetensorsContents } from './safetensors';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** Every tensor the config needs, in the reference module-registration order. */
export function expectedTensors(config: ModelConfig): ExpectedTensor[] {
  const a = config.architecture;
  const H = a.hidden_size;
  const ffnH = H * a.ffn_multiplier;
  const outH = H * a.output_multiplier;
  const list: ExpectedTensor[] = [];
  const add = (name: string, shape: number[]) => list.push({ name, shape });
  const linear = (prefix: string, out: number, inp: number) => {
    add(`${prefix}.weight`, [out, inp]);
    add(`${prefix}.bias`, [out]);
  };
  const attentionProjections = (prefix: string) => {
    for (const p of ['q', 'k', 'v']) linear(`${prefix}attn_in_proj_${p}`, H, H);
    linear(`${prefix}attn_out_proj`, H, H);
  };
  const ffn = (prefix: string) => {
    add(`${prefix}.ffn_res_scale`, []);
    linear(`${prefix}.ffn.0.0`, ffnH, H);
    linear(`${prefix}.ffn.1.0`, H, ffnH);
    add(`${prefix}.ffn_norm.weight`, [H]);
  };

  const ib = 'backbone.input_block';
  add(`${ib}.atomic_embedding.weight`, [a.max_num_elements, H]);
  linear(`${ib}.node_direction_embedding.0`, H, a.boo_lmax + 1);
  linear(`${ib}.node_linear.0`, H, 2 * H);
  add(`${ib}.node_norm.weight`, [2 * H]);
  // RBF channels then the (lmax+1)² spherical-harmonic components, concatenated in that order.
  linear(`${ib}.edge_attr_linear.0`, H, a.rbf_size + (a.sh_lmax + 1) ** 2);
  linear(`${ib}.edge_feature_linear.0`, H, 2 * H);
  if (a.use_charge_spin) {
    // Tables indexed by charge + 100 (charges −100..100) and by spin multiplicity 0..100.
    add(`${ib}.charge_embedding.rand_emb.weight`, [201, H]);
    add(`${ib}.spin_embedding.rand_emb.weight`, [101, H]);
    linear(`${ib}.charge_spin_linear.0`, H, 2 * H);
  }

  for (let l = 0; l < a.num_layers; l++) {
    const block = `backbone.transformer_blocks.${l}`;
    const na = `${block}.neighborhood_attention`;
    add(`${na}.src_attn_res_scale`, []);
    add(`${na}.dst_attn_res_scale`, []);
    attentionProjections(`${na}.src_attn.`);
    attentionProjections(`${na}.dst_attn.`);
    add(`${na}.src_attn_norm.weight`, [H]);
    add(`${na}.dst_attn_norm.weight`, [H]);
    ffn(`${block}.edge_ffn`);
    if (a.use_node_attention) {
      const node = `${block}.node_attention`;
      if (a.use_erope) add(`${node}.radial_weight`, [a.num_heads, a.erope_num_freq]);
      add(`${node}.node_attn_res_scale`, []);
      attentionProjections(`${node}.`);
      add(`${node}.node_norm.weight`, [H]);
    }
    // The node FFN exists even without node attention (reference GraphAttentionBlock).
    ffn(`${block}.node_ffn`);
  }

  const e = config.heads.energy_prefix;
  add(`${e}node_norm.weight`, [H]);
  linear(`${e}energy_ffn.0.0`, outH, H);
  linear(`${e}energy_ffn.1.0`, 1, outH);
  if (config.heads.forces === 'direct' && config.heads.force_prefix) {
    const f = config.heads.force_prefix;
    add(`${f}node_norm.weight`, [H]);
    linear(`${f}force_ffn.0.0`, outH, H);
    linear(`${f}force_ffn.1.0`, 3, outH);
  }
  return list;
}

function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Why an unexpected tensor may be there: the usual cause is a flag in model.json. */
function unexpectedHint(name: string, config: ModelConfig): string {
  const a = config.architecture;
  if (name.endsWith('.radial_weight') && !a.use_erope) return '; the weights have ERoPE: set architecture.use_erope to true';
  if (name.includes('.node_attention.') && !a.use_node_attention) {
    return '; the weights have node attention: set architecture.use_node_attention to true';
  }
  if ((name.includes('charge_embedding') || name.includes('spin_embedding') || name.includes('charge_spin_linear')) && !a.use_charge_spin) {
    return '; the weights have charge/spin embeddings: set architecture.use_charge_spin to true';
  }
  if (name.includes('force_ffn') && config.heads.forces !== 'direct') {
    return '; the weights have a direct force head: set heads.forces to "direct" and heads.force_prefix';
  }
  const layer = /^backbone\.transformer_blocks\.(\d+)\./.exec(name);
  if (layer && Number(layer[1]) >= a.num_layers) {
    return `; the weights have more layers than architecture.num_layers = ${a.num_layers}`;
  }
  return ' (model.json does not use it)';
}

/** If the energy head is missing but its tensors exist under another prefix, name that prefix. */
function prefixHint(config: ModelConfig, present: Iterable<string>): string | null {
  const suffix = 'energy_ffn.0.0.weight';
  for (const name of present) {
    if (name.endsWith(suffix) && name !== config.heads.energy_prefix + suffix) {
      return `the energy head's tensors are under "${name.slice(0, -suffix.length)}": set heads.energy_prefix to that`;
    }
  }
  return null;
}

/**
 * Checks a parsed weights file against the tensors the config needs: presence, shape, dtype (reported
 * by the parser) and finiteness, plus tensors the config does not use. Returns the usable tensors and
 * every problem, each naming the file and tensor.
 */
export function checkWeights(
  config: ModelConfig,
  file: SafetensorsContents,
  fileName = 'weights.safetensors',
): { tensors: Map<string, Tensor>; problems: string[] } {
  const problems = [...file.problems];
  const tensors = new Map<string, Tensor>();
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((t) => t.name));
  let missingHead = false;

  for (const { name, shape } of expected) {
    const entry = file.tensors.get(name);
    if (!entry) {
      problems.push(`${fileName}: tensor ${name} is missing (the config needs shape ${formatShape(shape)})`);
      if (name.startsWith(config.heads.energy_prefix)) missingHead = true;
      continue;
    }
    const shapeOk = entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
    if (!shapeOk) {
      problems.push(
        `${fileName}: tensor ${name} has shape ${formatShape(entry.shape)} but the config needs ${formatShape(shape)}`,
      );
      continue;
    }
    if (!entry.data) continue; // dtype or bounds problem, already reported by the parser
    let nan = 0;
    let inf = 0;
    let first = -1;
    for (let i = 0; i < entry.data.length; i++) {
      const v = entry.data[i];
      if (Number.isFinite(v)) continue;
      if (Number.isNaN(v)) nan++;
      else inf++;
      if (first < 0) first = i;
    }
    if (nan + inf > 0) {
      const what = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
      problems.push(`${fileName}: tensor ${name} contains ${what} value${nan + inf > 1 ? 's' : ''} (first at flat index ${first})`);
      continue;
    }
    tensors.set(name, { shape: entry.shape, data: entry.data });
  }
  for (const name of file.tensors.keys()) {
    if (!expectedNames.has(name)) problems.push(`${fileName}: unexpected tensor ${name}${unexpectedHint(name, config)}`);
  }
  if (missingHead) {
    const hint = prefixHint(config, file.tensors.keys());
    if (hint) problems.push(`${fileName}: ${hint}`);
  }
  return { tensors, problems };
}

/** Number of float parameters the config needs. */
export function parameterCount(config: ModelConfig): number {
  return expectedTensors(config).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
}
