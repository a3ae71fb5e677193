// Where the current model and system came from, as a link can name them (src/ui/session/hash.ts): noted by the
// loaders when a load succeeds, read by the "copy link" button. Also the files a link asked for that the user
// has not given yet.
import { create } from 'zustand';
import type { ModelOrigin, SystemOrigin } from './hash';

export interface OriginState {
  model: ModelOrigin | null;
  system: SystemOrigin | null;
  /** Files an opened link needs from the user (model files and/or the structure file), not yet loaded. */
  wanted: { model: string[]; system: string | null };
}

export const useOrigin = create<OriginState>(() => ({ model: null, system: null, wanted: { model: [], system: null } }));

export function noteModelOrigin(o: ModelOrigin | null): void {
  useOrigin.setState((s) => ({
    model: o,
    wanted: { ...s.wanted, model: o?.kind === 'files' && sameNames(o.names, s.wanted.model) ? [] : s.wanted.model },
  }));
}

export function noteSystemOrigin(o: SystemOrigin | null): void {
  useOrigin.setState((s) => ({
    system: o,
    wanted: { ...s.wanted, system: o?.kind === 'file' && o.name === s.wanted.system ? null : s.wanted.system },
  }));
}

/** The current system tiled once more (the system panel's supercell button). */
export function noteSupercell(reps: [number, number, number]): void {
  const o = useOrigin.getState().system;
  if (o) noteSystemOrigin({ ...o, repeat: [o.repeat[0] * reps[0], o.repeat[1] * reps[1], o.repeat[2] * reps[2]] });
}

function sameNames(a: string[], b: string[]): boolean {
  return b.length > 0 && b.every((n) => a.includes(n));
}
