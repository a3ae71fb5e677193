// The one way a structure reaches the engine: checked against the loaded model first (elements it was
// trained on, charge/spin it can use, atoms too close; src/model's check, not a copy of it). A new
// structure the model refuses is not loaded and everything the user had stays; a model change the
// current system fails leaves the system on screen with its history but takes it off the engine.

import type { Structure } from '../../io/structure';
import { checkSystem, type SystemProblem } from '../../model/systemCheck';
import { sendParams, setSystem, unloadSystem } from '../engine/client';
import { notify, useWorkbench } from '../store';

export interface RunCheck {
  errors: string[];
  warnings: string[];
}

/** The workbench's override for untrained elements, told with the refusal (new file: load it again; current system: it reruns). */
const OVERRIDE_HINT = 'to run it anyway, tick "allow elements this model was not trained on" in the model panel';

function messageOf(p: SystemProblem, current: boolean): string {
  if (p.kind !== 'untrained-element') return p.message;
  return `${p.message}; ${OVERRIDE_HINT}${current ? '' : ' and load it again'}`;
}

/**
 * What the loaded model says about running `st` (src/model/systemCheck.ts; atoms too close are a warning here,
 * shown with the pair): nothing to say when the forces are not the model's.
 */
export function checkForRun(st: Structure, current = false): RunCheck {
  const s = useWorkbench.getState();
  if (s.params.provider !== 'allscaip' || !s.modelConfig) return { errors: [], warnings: [] };
  const check = checkSystem(st, s.modelConfig, { allowUntrainedElements: s.allowUntrainedElements, closeAtoms: 'warning' });
  return { errors: check.errors.map((p) => messageOf(p, current)), warnings: check.warnings.map((p) => p.message) };
}

function showWarnings(warnings: string[]): void {
  useWorkbench.setState({ systemWarnings: warnings });
  for (const w of warnings) notify('warning', w);
}

/** Make `st` the current system if the model can run it; else say why and keep the current system, run and trajectory. */
export function loadSystem(st: Structure, name: string): boolean {
  const check = checkForRun(st);
  if (check.errors.length > 0) {
    const kept = useWorkbench.getState().systemName;
    const why = `${name} was not loaded: ${check.errors.join('; ')}`;
    useWorkbench.setState({ systemError: `${why}${kept ? ` — kept the current system (${kept})` : ''}` });
    notify('error', why);
    return false;
  }
  setSystem(st, name);
  useWorkbench.setState({ systemBlocked: false });
  showWarnings(check.warnings);
  return true;
}

/**
 * After the model, the forces or the override changed: run the current system afresh (`restart`), or only if it
 * was blocked; a system the model now refuses is taken off the engine and the reason shown (its history stays).
 */
export function recheckCurrentSystem(restart: boolean): void {
  const { system, systemName, systemBlocked, model } = useWorkbench.getState();
  if (!system) {
    sendParams();
    return;
  }
  const check = checkForRun(system, true);
  if (check.errors.length > 0) {
    if (!systemBlocked) unloadSystem();
    const why = `${model ? model.name : 'the model'} cannot run ${systemName}: ${check.errors.join('; ')}`;
    useWorkbench.setState({ systemBlocked: true, systemError: why, systemWarnings: check.warnings });
    notify('error', why);
    return;
  }
  if (restart || systemBlocked) {
    setSystem(system, systemName);
    useWorkbench.setState({ systemBlocked: false });
    showWarnings(check.warnings);
  } else {
    useWorkbench.setState({ systemWarnings: check.warnings });
  }
}

/** The expert override: run structures with elements the model was not trained on (their forces are meaningless). */
export function setAllowUntrainedElements(allow: boolean): void {
  useWorkbench.setState({ allowUntrainedElements: allow });
  recheckCurrentSystem(false);
}
