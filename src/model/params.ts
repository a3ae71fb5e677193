// The model's tensors, upcast to float64 and grouped by stage, under their reference names (spec §6).

import type { LoadedModel, Tensor } from './config';

export interface LinearParams { W: Float64Array; b: Float64Array | null; inDim: number; outDim: number }
export interface AttentionParams {
  q: LinearParams; k: LinearParams; v: LinearParams; out: LinearParams;
  norm: Float64Array; resScale: number;
  /** ERoPE mixing weights, num_heads × erope_num_freq (node attention with ERoPE only). */
  radialWeight: Float64Array | null;
}
export interface FfnParams { lin1: LinearParams; lin2: LinearParams; norm: Float64Array; resScale: number }
export interface LayerParams {
  src: AttentionParams; dst: AttentionParams; edgeFfn: FfnParams;
  node: AttentionParams | null; nodeFfn: FfnParams;
}
export interface InputBlockParams {
  atomEmbedding: Float64Array; // max_num_elements × H
  booLinear: LinearParams; nodeNorm: Float64Array; nodeLinear: LinearParams;
  edgeAttrLinear: LinearParams; edgeFeatureLinear: LinearParams;
  chargeEmbedding: Float64Array | null; spinEmbedding: Float64Array | null; chargeSpinLinear: LinearParams | null;
}
export interface HeadParams { norm: Float64Array; lin1: LinearParams; lin2: LinearParams }
export interface ModelParams {
  input: InputBlockParams; layers: LayerParams[]; energyHead: HeadParams; forceHead: HeadParams | null;
}

class TensorReader {
  constructor(private readonly tensors: Map<string, Tensor>) {}
  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`model has no tensor "${name}"`);
    return t;
  }
  f64(name: string): Float64Array { return Float64Array.from(this.get(name).data); }
  scalar(name: string): number { return this.get(name).data[0]; }
  linear(prefix: string): LinearParams {
    const w = this.get(`${prefix}.weight`);
    const b = this.tensors.get(`${prefix}.bias`);
    return { W: Float64Array.from(w.data), b: b ? Float64Array.from(b.data) : null, outDim: w.shape[0], inDim: w.shape[1] };
  }
}

export function extractParams(model: LoadedModel): ModelParams {
  const r = new TensorReader(model.tensors);
  const { architecture: arch, heads } = model.config;
  const ib = 'backbone.input_block';
  const input: InputBlockParams = {
    atomEmbedding: r.f64(`${ib}.atomic_embedding.weight`),
    booLinear: r.linear(`${ib}.node_direction_embedding.0`),
    nodeNorm: r.f64(`${ib}.node_norm.weight`),
    nodeLinear: r.linear(`${ib}.node_linear.0`),
    edgeAttrLinear: r.linear(`${ib}.edge_attr_linear.0`),
    edgeFeatureLinear: r.linear(`${ib}.edge_feature_linear.0`),
    chargeEmbedding: arch.use_charge_spin ? r.f64(`${ib}.charge_embedding.rand_emb.weight`) : null,
    spinEmbedding: arch.use_charge_spin ? r.f64(`${ib}.spin_embedding.rand_emb.weight`) : null,
    chargeSpinLinear: arch.use_charge_spin ? r.linear(`${ib}.charge_spin_linear.0`) : null,
  };
  const attention = (p: string, norm: string, res: string, radial: string | null): AttentionParams => ({
    q: r.linear(`${p}.attn_in_proj_q`), k: r.linear(`${p}.attn_in_proj_k`), v: r.linear(`${p}.attn_in_proj_v`),
    out: r.linear(`${p}.attn_out_proj`), norm: r.f64(norm), resScale: r.scalar(res),
    radialWeight: radial ? r.f64(radial) : null,
  });
  const ffn = (p: string): FfnParams => ({
    lin1: r.linear(`${p}.ffn.0.0`), lin2: r.linear(`${p}.ffn.1.0`),
    norm: r.f64(`${p}.ffn_norm.weight`), resScale: r.scalar(`${p}.ffn_res_scale`),
  });
  const layers: LayerParams[] = [];
  for (let l = 0; l < arch.num_layers; l++) {
    const b = `backbone.transformer_blocks.${l}`;
    const na = `${b}.neighborhood_attention`;
    layers.push({
      src: attention(`${na}.src_attn`, `${na}.src_attn_norm.weight`, `${na}.src_attn_res_scale`, null),
      dst: attention(`${na}.dst_attn`, `${na}.dst_attn_norm.weight`, `${na}.dst_attn_res_scale`, null),
      edgeFfn: ffn(`${b}.edge_ffn`),
      node: arch.use_node_attention
        ? attention(`${b}.node_attention`, `${b}.node_attention.node_norm.weight`,
          `${b}.node_attention.node_attn_res_scale`, arch.use_erope ? `${b}.node_attention.radial_weight` : null)
        : null,
      nodeFfn: ffn(`${b}.node_ffn`),
    });
  }
  const head = (prefix: string, ffnName: string): HeadParams => ({
    norm: r.f64(`${prefix}node_norm.weight`),
    lin1: r.linear(`${prefix}${ffnName}.0.0`), lin2: r.linear(`${prefix}${ffnName}.1.0`),
  });
  return {
    input, layers,
    energyHead: head(heads.energy_prefix, 'energy_ffn'),
    forceHead: heads.forces === 'direct' && heads.force_prefix ? head(heads.force_prefix, 'force_ffn') : null,
  };
}
