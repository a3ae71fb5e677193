// What the model panel shows about a loaded model: identity, size, the architecture flags that change
// its behaviour, and a short card built from its description and provenance.

import { CHEMICAL_SYMBOLS } from '../../io/elements';
import type { LoadedModel, ModelConfig } from '../../model/config';
import { parameterCount } from '../../model/weights';

export interface ModelSummary {
  name: string;
  version: string;
  description: string;
  parameterCount: number;
  cutoff: number;
  knnK: number;
  hidden: number;
  layers: number;
  heads: number;
  flags: string[];
  /** Chemical symbols of the elements the model was trained on, by atomic number; null when the file does not say. */
  elements: string[] | null;
  /** The loader's warnings about the file (e.g. no element list). */
  warnings: string[];
  /** "key: value" lines from provenance (teacher, training data, source...). */
  card: string[];
  /** The model card's opening paragraphs (card.md), plain text. */
  cardText: string | null;
  /** Held-out accuracy from metrics.json, when shipped with the model. */
  accuracy: string | null;
  /** Where it was loaded from (URL or file names). */
  source: string;
}

export function modelFlags(c: ModelConfig): string[] {
  const a = c.architecture;
  const f: string[] = [];
  f.push(c.heads.forces === 'conservative' ? 'conservative forces' : 'direct forces');
  if (c.heads.regress_stress) f.push('stress');
  if (a.use_node_attention) f.push('node attention');
  if (a.use_lae) f.push('LAE');
  if (a.use_erope) f.push('ERoPE');
  if (a.use_charge_spin) f.push('charge/spin');
  f.push(a.knn_soft ? 'soft kNN' : 'hard kNN');
  if (c.normalization.element_references) f.push('element references');
  return f;
}

function cardLines(prov: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(prov)) {
    let text: string;
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') text = JSON.stringify(v);
    else text = String(v);
    if (text.length > 140) text = text.slice(0, 137) + '…';
    lines.push(`${k}: ${text}`);
    if (lines.length >= 8) break;
  }
  return lines;
}

/** The first two paragraphs of a markdown card, with the markup that would show as noise stripped. */
export function cardSummary(markdown: string): string {
  const paragraphs = markdown
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith('#'));
  return paragraphs
    .slice(0, 2)
    .map((p) => p.replace(/\*\*(.+?)\*\*/g, '$1').replace(/`([^`]+)`/g, '$1').replace(/\s*\n\s*/g, ' '))
    .join('\n\n');
}

export function accuracyLine(metrics: Record<string, unknown> | null): string | null {
  if (!metrics) return null;
  const e = metrics.energy_mae_meV_per_atom, f = metrics.force_mae_meV_per_A, n = metrics.n_test_frames;
  if (typeof e !== 'number' || typeof f !== 'number') return null;
  return `held-out MAE: energy ${e.toFixed(2)} meV/atom, forces ${f.toFixed(1)} meV/Å${typeof n === 'number' ? ` (${n} frames)` : ''}`;
}

export function summarizeModel(
  model: LoadedModel,
  source: string,
  extras: { card: string | null; metrics: Record<string, unknown> | null } = { card: null, metrics: null },
): ModelSummary {
  const c = model.config;
  const a = c.architecture;
  return {
    name: c.name,
    version: c.version,
    description: c.description,
    parameterCount: parameterCount(c),
    cutoff: a.cutoff,
    knnK: a.knn_k,
    hidden: a.hidden_size,
    layers: a.num_layers,
    heads: a.num_heads,
    flags: modelFlags(c),
    elements: c.elements ? elementSymbols(c.elements) : null,
    warnings: model.warnings ?? [],
    card: cardLines(c.provenance ?? {}),
    cardText: extras.card ? cardSummary(extras.card) : null,
    accuracy: accuracyLine(extras.metrics),
    source,
  };
}

/** Symbols for atomic numbers, in the order given ("Z=119" for one beyond the table, which the loader refuses anyway). */
export function elementSymbols(numbers: readonly number[]): string[] {
  return numbers.map((z) => CHEMICAL_SYMBOLS[z] ?? `Z=${z}`);
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}
