// Model configuration (`model.json`), as documented in docs/model-format.md.
// Parsing and validation live in ./modelJson.ts; this file only declares the shape.

export interface ArchitectureConfig {
  hidden_size: number;
  num_layers: number;
  num_heads: number;
  max_num_elements: number;
  cutoff: number;
  knn_k: number;
  knn_soft: boolean;
  knn_sigmoid_scale: number;
  knn_lse_scale: number;
  knn_candidates: number;
  rbf_size: number;
  sh_lmax: number;
  boo_lmax: number;
  ffn_multiplier: number;
  output_multiplier: number;
  use_node_attention: boolean;
  use_lae: boolean;
  lae_frequency_list: number[];
  use_erope: boolean;
  erope_num_freq: number;
  use_charge_spin: boolean;
  rmsnorm_eps: number;
  /**
   * BOO as the envelope-weighted mean over the slots instead of the plain mean (docs/model-format.md):
   * continuous when an edge enters or leaves the graph. Optional, default false (the reference).
   */
  boo_envelope_weighted: boolean;
  /**
   * ERoPE pair distance from a smooth periodic metric instead of the minimum image, so the forces have no
   * kink where a pair crosses half the box (docs/model-format.md). Optional, default false (the reference).
   */
  erope_smooth_minimum_image: boolean;
  /**
   * Require knn_candidates ≥ 2·knn_k, which guarantees that the candidate truncation never drops an edge
   * (energy continuous at a candidate swap). Optional, default false.
   */
  knn_candidate_margin: boolean;
}

export interface HeadsConfig {
  forces: 'conservative' | 'direct';
  energy_prefix: string;
  force_prefix: string | null;
  regress_stress: boolean;
}

export interface NormalizationConfig {
  energy_scale: number;
  energy_shift: number;
  element_references: number[] | null;
}

export interface ModelConfig {
  format: 'scaip-web-model';
  format_version: 1;
  name: string;
  version: string;
  description: string;
  provenance: Record<string, unknown>;
  weights_file: string;
  /**
   * Atomic numbers the model was trained on, ascending (e.g. [1, 8]); null when the file does not say
   * (model files written before the field existed): such a model gets a load warning and no element check.
   */
  elements: number[] | null;
  architecture: ArchitectureConfig;
  heads: HeadsConfig;
  normalization: NormalizationConfig;
}

/** A named float32 tensor as stored in safetensors (row-major). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** A model ready to run: validated config plus every tensor it needs. */
export interface LoadedModel {
  config: ModelConfig;
  tensors: Map<string, Tensor>;
  /** Things about the file the user should know that do not stop it loading (e.g. no "elements" list). */
  warnings?: string[];
}
