// What the pull tool keeps in the store: whether it is on, the spring constant, and the pull in progress.
import { DEFAULT_PULL_STIFFNESS } from '../../md/steering';

export interface ActivePull {
  /** The atom pressed (its spring anchor follows the pointer). */
  pressed: number;
  /** Every pulled atom: the pressed one first, then the rest of the selection it belonged to. */
  atoms: number[];
  /** Per pulled atom, its anchor's offset from the pressed atom's anchor (Å, engine coordinates). */
  offsets: number[];
  /** The pressed atom's anchor in the engine's (unwrapped) coordinates, Å. */
  target: [number, number, number];
}

export interface SteeringState {
  /** Pull mode: pressing on an atom and dragging pulls it (off: dragging rotates the view). */
  tool: boolean;
  /** Spring constant, eV/Å². */
  stiffness: number;
  active: ActivePull | null;
}

export const initialSteering: SteeringState = { tool: false, stiffness: DEFAULT_PULL_STIFFNESS, active: null };
