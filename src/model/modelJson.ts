// Parsing and validation of `model.json` (docs/model-format.md) into a ModelConfig.
// Every problem is collected (unknown keys with a "did you mean", missing keys, wrong types, values
// that cannot work together) and thrown at once as a ModelLoadError.

import type { ArchitectureConfig, HeadsConfig, ModelConfig, NormalizationConfig } from './config';
import { ModelLoadError } from './errors';

type Kind =
  | 'positiveInt'
  | 'nonNegativeInt'
  | 'positiveNumber'
  | 'finiteNumber'
  | 'boolean'
  | 'string'
  | 'nonEmptyString'
  | 'intList'
  | 'object'
  | 'nullableString'
  | 'nullableNumberList';

interface Field {
  kind: Kind;
  /** Present keys only; a missing optional key takes this default. */
  optional?: { default: unknown };
}

const ARCHITECTURE: Record<keyof ArchitectureConfig, Field> = {
  hidden_size: { kind: 'positiveInt' },
  num_layers: { kind: 'positiveInt' },
  num_heads: { kind: 'positiveInt' },
  max_num_elements: { kind: 'positiveInt' },
  cutoff: { kind: 'positiveNumber' },
  knn_k: { kind: 'positiveInt' },
  knn_soft: { kind: 'boolean' },
  knn_sigmoid_scale: { kind: 'positiveNumber' },
  knn_lse_scale: { kind: 'positiveNumber' },
  knn_candidates: { kind: 'positiveInt' },
  rbf_size: { kind: 'positiveInt' },
  sh_lmax: { kind: 'nonNegativeInt' },
  boo_lmax: { kind: 'nonNegativeInt' },
  ffn_multiplier: { kind: 'positiveInt' },
  output_multiplier: { kind: 'positiveInt' },
  use_node_attention: { kind: 'boolean' },
  use_lae: { kind: 'boolean' },
  lae_frequency_list: { kind: 'intList' },
  use_erope: { kind: 'boolean' },
  erope_num_freq: { kind: 'positiveInt' },
  use_charge_spin: { kind: 'boolean' },
  rmsnorm_eps: { kind: 'positiveNumber' },
};

const HEADS: Record<keyof HeadsConfig, Field> = {
  forces: { kind: 'string' },
  energy_prefix: { kind: 'nonEmptyString' },
  force_prefix: { kind: 'nullableString' },
  regress_stress: { kind: 'boolean' },
};

const NORMALIZATION: Record<keyof NormalizationConfig, Field> = {
  energy_scale: { kind: 'finiteNumber' },
  energy_shift: { kind: 'finiteNumber' },
  element_references: { kind: 'nullableNumberList' },
};

const TOP: Record<keyof ModelConfig, Field> = {
  format: { kind: 'string' },
  format_version: { kind: 'positiveInt' },
  name: { kind: 'nonEmptyString' },
  version: { kind: 'string' },
  description: { kind: 'string', optional: { default: '' } },
  provenance: { kind: 'object', optional: { default: {} } },
  weights_file: { kind: 'nonEmptyString' },
  architecture: { kind: 'object' },
  heads: { kind: 'object' },
  normalization: { kind: 'object' },
};

const KIND_WORDS: Record<Kind, string> = {
  positiveInt: 'a positive whole number',
  nonNegativeInt: 'a whole number ≥ 0',
  positiveNumber: 'a positive number',
  finiteNumber: 'a finite number',
  boolean: 'true or false',
  string: 'a string',
  nonEmptyString: 'a non-empty string',
  intList: 'a list of whole numbers',
  object: 'an object',
  nullableString: 'a string or null',
  nullableNumberList: 'null or a list of finite numbers',
};

function matches(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'positiveInt':
      return Number.isInteger(v) && (v as number) > 0;
    case 'nonNegativeInt':
      return Number.isInteger(v) && (v as number) >= 0;
    case 'positiveNumber':
      return typeof v === 'number' && Number.isFinite(v) && v > 0;
    case 'finiteNumber':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'nonEmptyString':
      return typeof v === 'string' && v.length > 0;
    case 'intList':
      return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'nullableString':
      return v === null || typeof v === 'string';
    case 'nullableNumberList':
      return v === null || (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  }
}

/** Edit distance, for "did you mean" on unknown keys. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** Checks one section against its field table; returns the section with defaults filled in. */
function checkSection(
  obj: Record<string, unknown>,
  fields: Record<string, Field>,
  path: string,
  fileName: string,
  problems: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = Object.keys(fields);
  for (const key of Object.keys(obj)) {
    if (key in fields) continue;
    const close = known
      .map((k) => [k, editDistance(key.toLowerCase(), k)] as const)
      .sort((x, y) => x[1] - y[1])[0];
    const hint = close && close[1] <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${close[0]}"?)` : '';
    problems.push(`${fileName}: unknown key "${path}${key}"${hint}`);
  }
  for (const [key, field] of Object.entries(fields)) {
    if (!(key in obj)) {
      if (field.optional) out[key] = field.optional.default;
      else problems.push(`${fileName}: "${path}${key}" is missing (${KIND_WORDS[field.kind]})`);
      continue;
    }
    const v = obj[key];
    if (!matches(field.kind, v)) {
      problems.push(`${fileName}: "${path}${key}" must be ${KIND_WORDS[field.kind]}, got ${describe(v)}`);
      continue;
    }
    out[key] = v;
  }
  return out;
}

/**
 * Validates a parsed model.json object and returns it as a ModelConfig.
 * Throws ModelLoadError listing every problem.
 */
export function validateModelConfig(raw: unknown, fileName = 'model.json'): ModelConfig {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelLoadError([`${fileName}: expected a JSON object at the top level, got ${describe(raw)}`]);
  }
  const top = raw as Record<string, unknown>;
  if ('format' in top && top.format !== 'scaip-web-model') {
    throw new ModelLoadError([
      `${fileName}: not a scaip-web model file ("format" is ${describe(top.format)}, expected "scaip-web-model")`,
    ]);
  }
  if ('format_version' in top && top.format_version !== 1) {
    throw new ModelLoadError([
      `${fileName}: format_version ${describe(top.format_version)} is not supported (this version of scaip-web reads 1)`,
    ]);
  }
  const t = checkSection(top, TOP, '', fileName, problems);
  const a = t.architecture ? checkSection(t.architecture as Record<string, unknown>, ARCHITECTURE, 'architecture.', fileName, problems) : null;
  const h = t.heads ? checkSection(t.heads as Record<string, unknown>, HEADS, 'heads.', fileName, problems) : null;
  const n = t.normalization
    ? checkSection(t.normalization as Record<string, unknown>, NORMALIZATION, 'normalization.', fileName, problems)
    : null;

  // Values that are each valid but cannot work together.
  const has = (o: Record<string, unknown> | null, ...keys: string[]) => o !== null && keys.every((k) => k in o);
  if (has(a, 'hidden_size', 'num_heads') && (a!.hidden_size as number) % (a!.num_heads as number) !== 0) {
    problems.push(
      `${fileName}: architecture.hidden_size (${a!.hidden_size}) must be divisible by architecture.num_heads (${a!.num_heads})`,
    );
  }
  if (has(a, 'knn_k', 'knn_candidates') && (a!.knn_candidates as number) < (a!.knn_k as number)) {
    problems.push(
      `${fileName}: architecture.knn_candidates (${a!.knn_candidates}) must be at least architecture.knn_k (${a!.knn_k})`,
    );
  }
  if (
    has(a, 'use_lae', 'lae_frequency_list', 'hidden_size', 'num_heads') &&
    a!.use_lae === true &&
    (a!.hidden_size as number) % (a!.num_heads as number) === 0
  ) {
    const list = a!.lae_frequency_list as number[];
    const headDim = (a!.hidden_size as number) / (a!.num_heads as number);
    const sum = list.reduce((s, x) => s + x, 0);
    if (list.length !== 5 || sum !== headDim) {
      problems.push(
        `${fileName}: architecture.lae_frequency_list must have 5 entries (degrees l = 0..4) summing to the head ` +
          `dimension hidden_size/num_heads = ${headDim}, got ${describe(list)} (sum ${sum})`,
      );
    }
  }
  if (h !== null) {
    if ('forces' in h && h.forces !== 'conservative' && h.forces !== 'direct') {
      problems.push(`${fileName}: "heads.forces" must be "conservative" or "direct", got ${describe(h.forces)}`);
    }
    if (typeof h.energy_prefix === 'string' && !h.energy_prefix.endsWith('.')) {
      problems.push(`${fileName}: "heads.energy_prefix" must end with "." (tensor names are prefix + "node_norm.weight"), got ${describe(h.energy_prefix)}`);
    }
    if (h.forces === 'direct') {
      if ('force_prefix' in h && (typeof h.force_prefix !== 'string' || h.force_prefix.length === 0)) {
        problems.push(`${fileName}: "heads.force_prefix" must name the direct force head (e.g. "output_heads.forces.") when heads.forces is "direct"`);
      } else if (typeof h.force_prefix === 'string' && !h.force_prefix.endsWith('.')) {
        problems.push(`${fileName}: "heads.force_prefix" must end with ".", got ${describe(h.force_prefix)}`);
      }
      if (h.regress_stress === true) {
        problems.push(`${fileName}: "heads.regress_stress" must be false for a direct-force model (stress needs the energy gradient)`);
      }
    } else if (h.forces === 'conservative' && 'force_prefix' in h && h.force_prefix !== null) {
      problems.push(`${fileName}: "heads.force_prefix" must be null for a conservative model (forces are −dE/dx), got ${describe(h.force_prefix)}`);
    }
  }
  if (problems.length > 0) throw new ModelLoadError(problems);
  return {
    ...(t as unknown as ModelConfig),
    architecture: a as unknown as ArchitectureConfig,
    heads: h as unknown as HeadsConfig,
    normalization: n as unknown as NormalizationConfig,
  };
}

/** Parses the text of a model.json file. Throws ModelLoadError for bad JSON or any invalid field. */
export function parseModelConfig(text: string, fileName = 'model.json'): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError([`${fileName}: not valid JSON (${(e as Error).message})`]);
  }
  return validateModelConfig(raw, fileName);
}
