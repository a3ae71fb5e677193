// Opening a link: the session in the URL hash replaces the defaults before the model and system load; what
// cannot be used is named in a notice and the default stands. "Copy link" writes the current session back.

import { DEFAULT_PULL_STIFFNESS } from '../../md/steering';
import { loadBuiltin } from '../actions';
import { fetchModelIndex, loadDefaultModel, loadModelUrl, modelDirUrl, trackModelLoad } from '../model/modelActions';
import { notify, setParams, useWorkbench } from '../store';
import { sendParams } from '../engine/client';
import { recheckCurrentSystem } from '../system/admit';
import { pickDefaultSystem, type BuiltinSystem } from '../system/builtins';
import { decodeSession, describeProblems, encodeSession, type Session } from './hash';
import { useOrigin } from './origin';

/** The session as the page holds it now. */
export function currentSession(): Session {
  const s = useWorkbench.getState(), o = useOrigin.getState();
  const { backend: _backend, ...params } = s.params;
  return { model: o.model, system: o.system, params, view: { ...s.view }, allowUntrainedElements: s.allowUntrainedElements, pullStiffness: s.steering.stiffness };
}

/** The defaults a link's fields replace: the page's own settings before anything loaded. */
function defaults(): Session {
  return { ...currentSession(), model: null, system: null, pullStiffness: DEFAULT_PULL_STIFFNESS };
}

/** The link to this session: the page's address with the session as its hash. */
export function sessionLink(): string {
  return location.href.replace(/#.*$/, '') + encodeSession(currentSession());
}

/** The session in the page's hash (settings applied now), or null when the hash holds none. */
export function readLinkedSession(): Session | null {
  const decoded = decodeSession(location.hash, defaults());
  if (!decoded) return null;
  const { session, problems } = decoded;
  if (problems.length) notify('warning', describeProblems(problems));
  setParams(session.params);
  useWorkbench.setState((s) => ({ view: session.view, allowUntrainedElements: session.allowUntrainedElements, steering: { ...s.steering, stiffness: session.pullStiffness } }));
  const wanted = {
    model: session.model?.kind === 'files' ? session.model.names : [],
    system: session.system?.kind === 'file' ? session.system.name : null,
  };
  useOrigin.setState({ wanted });
  if (wanted.model.length || wanted.system) {
    const names = [...wanted.model, ...(wanted.system ? [wanted.system] : [])];
    notify('info', `This link uses your own files, which are never uploaded: open or drop ${names.join(', ')} to restore it.`);
  }
  return session;
}

/**
 * The link's model: a shipped one by directory, else the default (a link naming files waits for them). Tracked as a
 * model load from the start, so a linked structure opened meanwhile is judged against this model, not none.
 */
export function loadLinkedModel(session: Session | null): Promise<void> {
  return trackModelLoad(linkedModel(session));
}

async function linkedModel(session: Session | null): Promise<void> {
  const m = session?.model;
  if (m?.kind === 'shipped') {
    const index = await fetchModelIndex();
    if (index?.models.some((x) => x.dir === m.dir)) {
      await loadModelUrl(modelDirUrl(m.dir));
    } else {
      notify('warning', `This link's field model ("${m.dir}") is not a shipped model${index ? ` (shipped: ${index.models.map((x) => x.dir).join(', ')})` : ''}; loading the default model.`);
      await loadDefaultModel();
    }
  } else {
    await loadDefaultModel();
  }
  // Loading a model selects its forces; a link made with the Lennard-Jones baseline keeps them.
  if (session?.params.provider === 'lj' && useWorkbench.getState().params.provider !== 'lj') {
    setParams({ provider: 'lj' });
    if (useWorkbench.getState().system) recheckCurrentSystem(true);
    else sendParams();
  }
}

/** The link's system: a built-in one by file (tiled as the link says), else the default built-in. */
export async function loadLinkedSystem(session: Session | null, builtins: BuiltinSystem[]): Promise<void> {
  const sys = session?.system;
  let pick: BuiltinSystem | undefined;
  if (sys?.kind === 'builtin') {
    const base = builtins.find((b) => b.file === sys.file);
    if (base) pick = { ...base, name: nameFor(base, builtins, sys.repeat), repeat: sys.repeat };
    else notify('warning', `This link's field system ("${sys.file}") is not a built-in system; loading the default one.`);
  }
  pick ??= pickDefaultSystem(builtins);
  if (pick && !useWorkbench.getState().system) await loadBuiltin(pick);
}

/** A built-in's own name when the list has that tiling, else the file's name with the tiling. */
function nameFor(base: BuiltinSystem, list: BuiltinSystem[], repeat: [number, number, number]): string {
  const same = list.find((b) => b.file === base.file && (b.repeat ?? [1, 1, 1]).join() === repeat.join());
  return same ? same.name : `${base.name} ${repeat.join('×')}`;
}
