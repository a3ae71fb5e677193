// Small, clearly named hooks for the end-to-end tests (and for debugging from the console):
// `window.__scaip`. They call the same code paths as the UI; nothing here fakes a result.

import { engine } from './engine/client';
import { useWorkbench } from './store';
import { useTrajectory } from './trajectory/state';
import { getScene } from './viewer/Viewer';

export interface ScaipTestHooks {
  /** The zustand store (read state; tests do not write through it). */
  store: typeof useWorkbench;
  /** The open trajectory's store (src/ui/trajectory/state.ts): summary, observables, frame shown. */
  trajectory: typeof useTrajectory;
  /** Destroy the MD worker's GPU device, as a driver reset would; the worker must recover. */
  loseDevice(): void;
  /** Client-space pixel of atom i in the viewer, so a test can click it like a user. */
  projectAtom(i: number): { x: number; y: number } | null;
  /** The atom the viewer would pick at a client-space point (what a click there selects), or null. */
  atomAt(x: number, y: number): number | null;
  /** Bond count and last draw time of the viewer. */
  viewerStats(): { bonds: number; spheres: number; renderMs: number; updateMs: number } | null;
  /** The viewer's PNG screenshot (the same as the screenshot button downloads). */
  screenshot(): Promise<Blob>;
}

declare global {
  interface Window {
    __scaip?: ScaipTestHooks;
  }
}

export function installTestHooks(): void {
  window.__scaip = {
    store: useWorkbench,
    trajectory: useTrajectory,
    loseDevice: () => engine.loseDevice(),
    projectAtom: (i) => getScene()?.projectAtom(i) ?? null,
    atomAt: (x, y) => getScene()?.pick(x, y) ?? null,
    viewerStats: () => {
      const s = getScene();
      return s ? { bonds: s.lastBondCount, spheres: s.sphereCount, renderMs: s.lastRenderMs, updateMs: s.lastUpdateMs } : null;
    },
    screenshot: () => {
      const s = getScene();
      return s ? s.screenshot() : Promise.reject(new Error('no viewer'));
    },
  };
}
