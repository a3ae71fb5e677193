// A workbench session as a URL hash: the shipped model, the built-in system (and supercell) or the names of the
// user's files, the ensemble and every simulation setting including the seed, the view and the pull tool's spring.
// User files never go into the link: it names them, and the page asks for them. Decoding never throws: a
// malformed or unknown value becomes a problem naming its field, and that field keeps its default.
//
// Format: `#v=1&model=water-spcfw-small&system=water64_box.xyz&repeat=2x2x2&ensemble=nve&T=300&...`
// (URLSearchParams, so names and values are percent-encoded where needed).

import type { Ensemble, ProviderKind, SimParams } from '../store';

export const SESSION_VERSION = 1;

/** Where the model comes from: a shipped model's directory (public/models/<dir>) or the user's files. */
export type ModelOrigin = { kind: 'shipped'; dir: string } | { kind: 'files'; names: string[] };
/** Where the system comes from: a built-in file (public/systems/) or the user's file, each optionally tiled. */
export type SystemOrigin = { kind: 'builtin'; file: string; repeat: [number, number, number] } | { kind: 'file'; name: string; repeat: [number, number, number] };

/** The settings a link carries (SimParams without the backend, which is whatever the browser has). */
export type SessionParams = Omit<SimParams, 'backend'>;

export interface Session {
  model: ModelOrigin | null;
  system: SystemOrigin | null;
  params: SessionParams;
  view: { wrap: boolean; images: boolean; bonds: boolean };
  allowUntrainedElements: boolean;
  /** The pull tool's spring constant, eV/Å². */
  pullStiffness: number;
}

export interface SessionProblem {
  /** The hash field at fault, as it appears in the link. */
  field: string;
  problem: string;
}

const ENSEMBLES: Ensemble[] = ['nve', 'nvt-langevin', 'nvt-bussi', 'nvt-nhc', 'npt'];
const PROVIDERS: ProviderKind[] = ['allscaip', 'lj'];
/** Longest file or directory name a link may carry (a link is not a place for paths or payloads). */
const MAX_NAME = 200;

// Field names in the link, one per setting.
const F = {
  version: 'v', model: 'model', modelFiles: 'modelfiles', system: 'system', systemFile: 'systemfile', repeat: 'repeat',
  ensemble: 'ensemble', temperature: 'T', pressure: 'P', timestep: 'dt', friction: 'friction', tau: 'tau',
  stepsPerFrame: 'spf', seed: 'seed', provider: 'forces', wrap: 'wrap', images: 'images', bonds: 'bonds',
  untrained: 'untrained', pullStiffness: 'pullk',
} as const;
const KNOWN = new Set<string>(Object.values(F));

const num = (x: number) => String(x);
const flag = (b: boolean) => (b ? '1' : '0');

export function encodeSession(s: Session): string {
  const q = new URLSearchParams();
  q.set(F.version, String(SESSION_VERSION));
  if (s.model?.kind === 'shipped') q.set(F.model, s.model.dir);
  if (s.model?.kind === 'files') q.set(F.modelFiles, s.model.names.join(','));
  if (s.system?.kind === 'builtin') q.set(F.system, s.system.file);
  if (s.system?.kind === 'file') q.set(F.systemFile, s.system.name);
  if (s.system && s.system.repeat.some((r) => r !== 1)) q.set(F.repeat, s.system.repeat.join('x'));
  const p = s.params;
  q.set(F.provider, p.provider);
  q.set(F.ensemble, p.ensemble);
  q.set(F.temperature, num(p.temperature));
  q.set(F.pressure, num(p.pressure));
  q.set(F.timestep, p.timestepAuto ? 'auto' : num(p.timestep));
  q.set(F.friction, num(p.friction));
  q.set(F.tau, num(p.tau));
  q.set(F.stepsPerFrame, num(p.stepsPerFrame));
  q.set(F.seed, num(p.seed));
  q.set(F.wrap, flag(s.view.wrap));
  q.set(F.images, flag(s.view.images));
  q.set(F.bonds, flag(s.view.bonds));
  q.set(F.untrained, flag(s.allowUntrainedElements));
  q.set(F.pullStiffness, num(s.pullStiffness));
  return '#' + q.toString();
}

/** A file or directory name a link may carry: no path separators or control characters, not empty. */
function plainName(x: string): boolean {
  return x.length > 0 && x.length <= MAX_NAME && !/[\\/\u0000-\u001f]|^\.\.?$/.test(x);
}

/**
 * The session in `hash` over `defaults`: every field the link gives and that is valid replaces its default;
 * each malformed or unknown one is listed in `problems` (the default stays). null when the hash is no session.
 */
export function decodeSession(hash: string, defaults: Session): { session: Session; problems: SessionProblem[] } | null {
  const body = hash.replace(/^#/, '');
  if (!body) return null;
  let q: URLSearchParams;
  try {
    q = new URLSearchParams(body);
  } catch {
    return null;
  }
  if (!q.has(F.version)) return null;
  const problems: SessionProblem[] = [];
  const bad = (field: string, problem: string) => problems.push({ field, problem });
  const out: Session = {
    ...defaults, params: { ...defaults.params }, view: { ...defaults.view },
    model: defaults.model, system: defaults.system,
  };
  if (q.get(F.version) !== String(SESSION_VERSION)) bad(F.version, `link version "${q.get(F.version)}" is not ${SESSION_VERSION}; reading it as version ${SESSION_VERSION}`);
  for (const key of new Set(q.keys())) {
    if (!KNOWN.has(key)) bad(key, 'unknown field, ignored');
    else if (q.getAll(key).length > 1) bad(key, 'given more than once; the first value is used');
  }

  const text = (field: string) => q.get(field);
  const number = (field: string, ok: (v: number) => boolean, what: string, set: (v: number) => void) => {
    const raw = text(field);
    if (raw === null) return;
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (Number.isFinite(v) && ok(v)) set(v);
    else bad(field, `"${raw}" is not ${what}`);
  };
  const boolean = (field: string, set: (v: boolean) => void) => {
    const raw = text(field);
    if (raw === null) return;
    if (raw === '1' || raw === '0') set(raw === '1');
    else bad(field, `"${raw}" is not 0 or 1`);
  };
  const choice = <T extends string>(field: string, options: readonly T[], set: (v: T) => void) => {
    const raw = text(field);
    if (raw === null) return;
    if ((options as readonly string[]).includes(raw)) set(raw as T);
    else bad(field, `"${raw}" is not one of ${options.join(', ')}`);
  };

  const model = text(F.model), modelFiles = text(F.modelFiles);
  if (model !== null && modelFiles !== null) bad(F.modelFiles, `a link names either a shipped model or model files, not both; using the shipped model "${model}"`);
  if (model !== null) {
    if (plainName(model)) out.model = { kind: 'shipped', dir: model };
    else bad(F.model, `"${model.slice(0, 40)}" is not a model directory name`);
  } else if (modelFiles !== null) {
    const names = modelFiles.split(',').map((x) => x.trim()).filter(Boolean);
    if (names.length && names.every(plainName)) out.model = { kind: 'files', names };
    else bad(F.modelFiles, `"${modelFiles.slice(0, 40)}" is not a list of file names`);
  }

  let repeat: [number, number, number] = [1, 1, 1];
  const rep = text(F.repeat);
  if (rep !== null) {
    const parts = rep.split('x').map(Number);
    if (parts.length === 3 && parts.every((r) => Number.isInteger(r) && r >= 1 && r <= 10)) repeat = parts as [number, number, number];
    else bad(F.repeat, `"${rep}" is not three whole numbers 1–10 like 2x2x2`);
  }
  const system = text(F.system), systemFile = text(F.systemFile);
  if (system !== null && systemFile !== null) bad(F.systemFile, `a link names either a built-in system or a file, not both; using the built-in "${system}"`);
  if (system !== null) {
    if (plainName(system)) out.system = { kind: 'builtin', file: system, repeat };
    else bad(F.system, `"${system.slice(0, 40)}" is not a built-in system file name`);
  } else if (systemFile !== null) {
    if (plainName(systemFile)) out.system = { kind: 'file', name: systemFile, repeat };
    else bad(F.systemFile, `"${systemFile.slice(0, 40)}" is not a file name`);
  } else if (out.system) {
    out.system = { ...out.system, repeat };
  }

  const p = out.params;
  choice(F.provider, PROVIDERS, (v) => (p.provider = v));
  choice(F.ensemble, ENSEMBLES, (v) => (p.ensemble = v));
  number(F.temperature, (v) => v >= 0 && v <= 1e5, 'a temperature of 0–100000 K', (v) => (p.temperature = v));
  number(F.pressure, (v) => Math.abs(v) <= 1e7, 'a pressure within ±1e7 bar', (v) => (p.pressure = v));
  const dt = text(F.timestep);
  if (dt === 'auto') p.timestepAuto = true;
  else number(F.timestep, (v) => v > 0 && v <= 20, 'a time step of 0–20 fs or "auto"', (v) => { p.timestep = v; p.timestepAuto = false; });
  number(F.friction, (v) => v >= 0 && v <= 10, 'a friction of 0–10 1/fs', (v) => (p.friction = v));
  number(F.tau, (v) => v > 0 && v <= 1e6, 'a time constant of 0–1e6 fs', (v) => (p.tau = v));
  number(F.stepsPerFrame, (v) => Number.isInteger(v) && v >= 1 && v <= 100000, 'a whole number of steps 1–100000', (v) => (p.stepsPerFrame = v));
  number(F.seed, (v) => Number.isSafeInteger(v), 'a whole number', (v) => (p.seed = v));
  boolean(F.wrap, (v) => (out.view.wrap = v));
  boolean(F.images, (v) => (out.view.images = v));
  boolean(F.bonds, (v) => (out.view.bonds = v));
  boolean(F.untrained, (v) => (out.allowUntrainedElements = v));
  number(F.pullStiffness, (v) => v > 0, 'a spring constant above 0 eV/Å²', (v) => (out.pullStiffness = v));
  return { session: out, problems };
}

/** The problems as one line for a notice. */
export function describeProblems(problems: SessionProblem[]): string {
  return `This link has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; defaults are used for: ` +
    problems.map((p) => `${p.field} (${p.problem})`).join('; ');
}
