// Parsing and validation of `model.json` (docs/model-format.md) into a ModelConfig.
// Every problem is collected (unknown keys with a "did you mean", missing keys, wrong types, values
// that cannot work together) and thrown at once as a ModelLoadError.

import type { ArchitectureConfig, HeadsConfig, ModelConfig, NormalizationConfig } from './config';
import { ModelLoadError } from './errors';
import { MODEL_JSON_LIMITS, scanJsonLimits } from './jsonLimits';

export { MODEL_JSON_LIMITS };

/** Largest atomic number (oganesson). */
const MAX_Z = 118;

/**
 * Inclusive bounds on numeric fields. They are far beyond any real AllScAIP (the released md_NeNo models:
 * hidden 640, 10 layers, 10 heads, k 30, 50 candidates, RBF 512, SH l ≤ 5, BOO l ≤ 9, 32 ERoPE
 * frequencies, cutoff 6 Å) but keep every size derived from them (tensor shapes, per-layer loops, image
 * counts, the charge/spin tables) small enough to compute with: a value outside them means a damaged file.
 */
const LIMITS: Record<string, [number, number]> = {
  'architecture.hidden_size': [1, 16384],
  'architecture.num_layers': [1, 256],
  'architecture.num_heads': [1, 256],
  'architecture.max_num_elements': [2, 1024],
  'architecture.cutoff': [0.1, 100],
  'architecture.knn_k': [1, 1024],
  'architecture.knn_sigmoid_scale': [1e-6, 100],
  'architecture.knn_lse_scale': [1e-6, 100],
  'architecture.knn_candidates': [1, 1024],
  'architecture.rbf_size': [1, 16384],
  'architecture.sh_lmax': [0, 16],
  'architecture.boo_lmax': [0, 32],
  'architecture.ffn_multiplier': [1, 64],
  'architecture.output_multiplier': [1, 64],
  'architecture.erope_num_freq': [1, 4096],
  'architecture.rmsnorm_eps': [1e-30, 0.1],
  'normalization.energy_scale': [1e-12, 1e12],
  'normalization.energy_shift': [-1e12, 1e12],
};
/** Longest strings: names and prefixes appear in every message and tensor name; a description is one line of a picker. */
const MAX_STRING_LENGTH: Record<string, number> = {
  name: 128, version: 64, description: 4096, 'heads.energy_prefix': 256, 'heads.force_prefix': 256,
};
/** Units shown with a limit in messages. */
const LIMIT_UNITS: Record<string, string> = { 'architecture.cutoff': ' Å', 'normalization.energy_shift': ' eV' };
/** Reference energies of real atoms are above −1e6 eV (uranium's total energy is about −7.6e5 eV). */
const MAX_ABS_REFERENCE_EV = 1e7;
const MAX_LIST_LENGTH = 1024;


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
  | 'nullableNumberList'
  | 'nullableElementList';

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
  boo_envelope_weighted: { kind: 'boolean', optional: { default: false } },
  erope_smooth_minimum_image: { kind: 'boolean', optional: { default: false } },
  knn_candidate_margin: { kind: 'boolean', optional: { default: false } },
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
  elements: { kind: 'nullableElementList', optional: { default: null } },
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
  nullableElementList: 'null or a list of atomic numbers (whole numbers 1 to 118)',
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
    case 'nullableElementList':
      return v === null || (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 1 && x <= MAX_Z));
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
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined; // too deep or cyclic (only for objects handed in directly; text input is pre-scanned)
  }
  if (s === undefined) s = Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'an object' : String(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** A key as shown in a message: at most 40 characters. */
function showKey(key: string): string {
  return key.length > 40 ? `${key.slice(0, 37)}...(${key.length} characters)` : key;
}

/** Deepest nesting of a parsed value, walked without recursion and stopping past `limit`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** Checks numeric fields against LIMITS and list lengths; pushes one problem per field. */
function checkRanges(section: Record<string, unknown>, path: string, fileName: string, problems: string[]): void {
  for (const [key, v] of Object.entries(section)) {
    const bounds = LIMITS[path + key];
    if (bounds && typeof v === 'number' && !(v >= bounds[0] && v <= bounds[1])) {
      const unit = LIMIT_UNITS[path + key] ?? '';
      problems.push(
        `${fileName}: "${path}${key}" is ${v}${unit}, outside the range ${bounds[0]}${unit} to ${bounds[1]}${unit} ` +
          `that any real model lies in`,
      );
    }
  }
}

/** A weights_file must name a file next to model.json: no directories, no "..", no absolute paths. */
function weightsFileProblem(name: string): string | null {
  if (name.length > 255) return `is ${name.length} characters long (a file name has at most 255)`;
  if (/[/\\]/.test(name)) return 'contains a path separator: it must be a plain file name next to model.json';
  if (name === '.' || name === '..') return 'is not a file name';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return 'contains control characters';
  if (/^[a-zA-Z]:/.test(name)) return 'is a drive path: it must be a plain file name next to model.json';
  return null;
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
  const unknown = Object.keys(obj).filter((key) => !Object.hasOwn(fields, key));
  // Report a handful; a file with thousands of stray keys is not a model config.
  const SHOWN = 10;
  if (unknown.length > SHOWN) {
    problems.push(`${fileName}: ${unknown.length} unknown keys in "${path || 'the top level'}" (the first ${SHOWN} follow)`);
  }
  for (const key of unknown.slice(0, SHOWN)) {
    if (key.length > MODEL_JSON_LIMITS.maxKeyLength) {
      problems.push(`${fileName}: unknown key "${path}${showKey(key)}"`);
      continue;
    }
    const close = known
      .map((k) => [k, editDistance(key.toLowerCase(), k)] as const)
      .sort((x, y) => x[1] - y[1])[0];
    const hint = close && close[1] <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${close[0]}"?)` : '';
    problems.push(`${fileName}: unknown key "${path}${key}"${hint}`);
  }
  for (const [key, field] of Object.entries(fields)) {
    if (!Object.hasOwn(obj, key)) {
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
  if (depthExceeds(raw, MODEL_JSON_LIMITS.maxDepth)) {
    throw new ModelLoadError([
      `${fileName}: values nest more than ${MODEL_JSON_LIMITS.maxDepth} levels deep; no model config field needs that`,
    ]);
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

  for (const [path, max] of Object.entries(MAX_STRING_LENGTH)) {
    const [section, key] = path.includes('.') ? path.split('.') : ['', path];
    const v = section === '' ? t[key] : section === 'heads' && h ? h[key] : undefined;
    if (typeof v === 'string' && v.length > max) {
      problems.push(`${fileName}: "${path}" is ${v.length} characters long (at most ${max})`);
    }
  }
  if (a) checkRanges(a, 'architecture.', fileName, problems);
  if (n) checkRanges(n, 'normalization.', fileName, problems);
  if (typeof t.weights_file === 'string') {
    const why = weightsFileProblem(t.weights_file);
    if (why) problems.push(`${fileName}: "weights_file" ${describe(t.weights_file)} ${why}`);
  }
  if (a && Array.isArray(a.lae_frequency_list)) {
    const list = a.lae_frequency_list as number[];
    if (list.length > MAX_LIST_LENGTH || list.some((x) => x > (LIMITS['architecture.hidden_size'][1]))) {
      problems.push(`${fileName}: "architecture.lae_frequency_list" has ${list.length} entries up to ${Math.max(...list.slice(0, MAX_LIST_LENGTH))}; it needs 5 channel counts`);
    }
  }
  const refs = n && Array.isArray(n.element_references) ? (n.element_references as number[]) : null;
  if (refs) {
    if (refs.length > MAX_LIST_LENGTH) {
      problems.push(`${fileName}: "normalization.element_references" has ${refs.length} entries (one per atomic number, at most ${MAX_LIST_LENGTH})`);
    }
    const bad = refs.findIndex((x) => Math.abs(x) > MAX_ABS_REFERENCE_EV);
    if (bad >= 0) {
      problems.push(
        `${fileName}: "normalization.element_references"[${bad}] is ${refs[bad]} eV; reference energies of real atoms ` +
          `lie within ±${MAX_ABS_REFERENCE_EV} eV`,
      );
    }
  }
  const elements = Array.isArray(t.elements) ? (t.elements as number[]) : null;
  if (elements) {
    const order = elements.findIndex((z, i) => i > 0 && z <= elements[i - 1]);
    if (elements.length === 0) problems.push(`${fileName}: "elements" is empty; list the atomic numbers the model was trained on, or use null for unknown`);
    if (order >= 0) {
      problems.push(
        `${fileName}: "elements" must be sorted ascending without repeats (atomic numbers), but ${elements[order]} follows ${elements[order - 1]}`,
      );
    }
    if (a && typeof a.max_num_elements === 'number') {
      const beyond = elements.filter((z) => z >= (a.max_num_elements as number));
      if (beyond.length > 0) {
        problems.push(
          `${fileName}: "elements" lists Z = ${beyond.slice(0, 5).join(', ')} but the embedding has rows for Z < ` +
            `architecture.max_num_elements = ${a.max_num_elements}`,
        );
      }
    }
    if (refs) {
      const noRef = elements.filter((z) => z >= refs.length);
      if (noRef.length > 0) {
        problems.push(
          `${fileName}: "elements" lists Z = ${noRef.slice(0, 5).join(', ')} but normalization.element_references has ` +
            `entries only for Z < ${refs.length}`,
        );
      }
    }
  }

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
  // The farthest kept candidate has soft rank ≥ knn_candidates/2 (each kept term ≥ 1/2), so with
  // knn_candidates ≥ 2·knn_k it is never an edge and the truncation never cuts one (docs/model-format.md).
  if (has(a, 'knn_k', 'knn_candidates') && a!.knn_candidate_margin === true
    && (a!.knn_candidates as number) < 2 * (a!.knn_k as number)) {
    problems.push(
      `${fileName}: architecture.knn_candidate_margin needs architecture.knn_candidates (${a!.knn_candidates}) ≥ ` +
        `2 × knn_k (${2 * (a!.knn_k as number)}) so that the candidate budget never cuts an edge`,
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

/** Things the user should know about a valid config that do not stop it loading. */
export function configWarnings(config: ModelConfig, fileName = 'model.json'): string[] {
  const out: string[] = [];
  if (config.elements === null) {
    out.push(
      `${fileName} does not list the elements the model was trained on ("elements"), so structures are not ` +
        `checked against them: results for elements the model never saw are meaningless`,
    );
  }
  return out;
}

/** Parses the text of a model.json file. Throws ModelLoadError for bad JSON or any invalid field. */
export function parseModelConfig(text: string, fileName = 'model.json'): ModelConfig {
  const tooBig = scanJsonLimits(text);
  if (tooBig) throw new ModelLoadError([`${fileName}: ${tooBig}`]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError([`${fileName}: not valid JSON (${(e as Error).message})`]);
  }
  return validateModelConfig(raw, fileName);
}
