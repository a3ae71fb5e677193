// Which shipped model runs a structure the user opens. Opening ethanol with the water model loaded should not end in
// a refusal when public/models/index.json lists an H/C/N/O model that can run it: the workbench switches to that
// model and says so (model panel and a notice). A model the workbench picked this way is left again for the index's
// default as soon as the default can run what is opened (opening water after ethanol gives the water model back);
// a model the user chose (picker, files, a link naming it) is kept for every structure it can run. Nothing here
// relaxes the check: a model is "fit" only when src/model/systemCheck finds no error (elements it was trained on,
// charge/spin it can represent, cell large enough for its cutoff).

import type { Structure } from '../../io/structure';
import type { ModelConfig } from '../../model/config';
import { parseModelConfig } from '../../model/modelJson';
import { checkSystem, type SystemProblem } from '../../model/systemCheck';
import { CHEMICAL_SYMBOLS } from '../../io/elements';

/** A listed model with its model.json (its elements, charge/spin embedding and cutoff; no weights needed to judge). */
export interface ModelCandidate {
  dir: string;
  name: string;
  config: ModelConfig;
}

/** The model loaded now: its index dir (null for files the user gave) and whether the workbench picked it. */
export interface CurrentModel {
  dir: string | null;
  config: ModelConfig;
  /** Picked by the workbench for an earlier structure (not by the user, a link, or the start-up default). */
  auto: boolean;
}

export interface ModelSwitch {
  dir: string;
  name: string;
  /** For the model panel and the notice: why this model runs the structure. */
  reason: string;
}

/** The errors model `config` has with `st` (close atoms are the workbench's warning, not a reason to switch). */
export function runErrors(st: Structure, config: ModelConfig, allowUntrainedElements = false): SystemProblem[] {
  return checkSystem(st, config, { allowUntrainedElements, closeAtoms: 'warning' }).errors;
}

function elementList(config: ModelConfig): string {
  return config.elements ? config.elements.map((z) => CHEMICAL_SYMBOLS[z] ?? `Z=${z}`).join(', ') : 'unknown elements';
}

/** Why the current model cannot run the structure, in a few words per problem kind. */
function shortWhy(problems: SystemProblem[], config: ModelConfig, st: Structure): string {
  const parts: string[] = [];
  const known = new Set(config.elements ?? []);
  if (problems.some((p) => p.kind === 'untrained-element' || p.kind === 'element-outside-model')) {
    const missing = [...new Set(Array.from(st.numbers))].filter((z) => !known.has(z)).sort((a, b) => a - b);
    parts.push(`trained on ${elementList(config)} only, not ${missing.map((z) => CHEMICAL_SYMBOLS[z] ?? `Z=${z}`).join(', ')}`);
  }
  if (problems.some((p) => p.kind === 'charge' || p.kind === 'spin')) {
    parts.push(config.architecture.use_charge_spin
      ? `charge ${st.charge} / spin ${st.spin} outside its range`
      : `no charge/spin embedding (this structure: charge ${st.charge}, spin ${st.spin})`);
  }
  if (problems.some((p) => p.kind === 'cell-too-small')) parts.push(`cell too small for its ${config.architecture.cutoff} Å cutoff`);
  return parts.length ? parts.join('; ') : problems.map((p) => p.message).join('; ');
}

/**
 * The listed model that should run `st`, or null to keep the current one. Pure: the decision only, from the
 * model.json files; `candidates` in index order, `defaultDir` the index's default.
 * - The current model refuses `st`: the default if it fits, else the first listed model that fits (null if none does:
 *   the refusal stands, with the current model's reasons).
 * - The current model runs `st` but was picked by the workbench for an earlier structure: back to the default when
 *   the default fits (the user never chose the other one).
 * - Otherwise the current model stays. The user's "allow untrained elements" counts for the current model only.
 */
export function chooseModelFor(
  st: Structure,
  systemName: string,
  candidates: ModelCandidate[],
  defaultDir: string | null,
  current: CurrentModel | null,
  allowUntrainedElements = false,
): ModelSwitch | null {
  if (!current) return null;
  const fits = candidates.filter((c) => runErrors(st, c.config).length === 0);
  const dflt = fits.find((c) => c.dir === defaultDir);
  const errors = runErrors(st, current.config, allowUntrainedElements);
  if (errors.length === 0) {
    if (current.auto && dflt && current.dir !== dflt.dir) {
      return { dir: dflt.dir, name: dflt.name, reason: `${dflt.name} is the default model and runs ${systemName}` };
    }
    return null;
  }
  const pick = dflt ?? fits.find((c) => c.dir !== current.dir);
  if (!pick || pick.dir === current.dir) return null;
  return {
    dir: pick.dir,
    name: pick.name,
    reason: `${current.config.name} cannot run ${systemName} (${shortWhy(errors, current.config, st)}); ` +
      `${pick.name} can (elements ${elementList(pick.config)}${pick.config.architecture.use_charge_spin ? ', with charge/spin' : ''})`,
  };
}

/**
 * The listed models with their model.json, in index order; an entry whose model.json cannot be read or parsed is
 * left out (it could not be loaded either). `readModelJson` gives the text of a listed dir's model.json.
 */
export async function readCandidates(
  index: { models: { dir: string; name: string }[] },
  readModelJson: (dir: string) => Promise<string>,
): Promise<ModelCandidate[]> {
  const out = await Promise.all(index.models.map(async (m) => {
    try {
      return { dir: m.dir, name: m.name, config: parseModelConfig(await readModelJson(m.dir), `${m.dir}/model.json`) };
    } catch {
      return null;
    }
  }));
  return out.filter((c): c is ModelCandidate => c !== null);
}
