// What the user does with a trajectory file: open it (indexed in the parser worker with a progress bar; a file of
// one frame is a structure as before), compute g(r) over a frame range, and continue MD from a frame, velocities
// included when the file has them.

import type { Structure } from '../../io/structure';
import { setSystem, unloadSystem } from '../engine/client';
import { describeProblem, type FileProblem } from '../files/parseStructure';
import { openTrajectoryOffThread, rdfOffThread, frameOffThread, type RdfQuery } from '../files/parseClient';
import { checkForRun, loadSystem } from '../system/admit';
import { fitModelTo } from '../model/autoModel';
import { notify, useWorkbench } from '../store';
import { pause, resetShown, showFrame, shownFrame } from './playback';
import { useTrajectory } from './state';

/** The system object the open trajectory put on the workbench: the timeline follows only while it is the current one. */
let shownSystem: Structure | null = null;
let watching = false;

/** Once MD runs or another system is loaded, the viewer no longer shows the trajectory: playback stops. */
function watchWorkbench(): void {
  if (watching) return;
  watching = true;
  useWorkbench.subscribe((s, prev) => {
    const t = useTrajectory.getState();
    if (!t.attached) return;
    if (s.system !== shownSystem || (s.running && !prev.running)) {
      pause();
      useTrajectory.setState({ attached: false });
      return;
    }
    // The engine reports the frame it was handed (frame 1) once it is ready: the viewer stays on the frame chosen.
    const mine = shownFrame();
    if (mine && s.frame !== mine && s.frameVersion !== prev.frameVersion) {
      useWorkbench.setState((w) => ({ frame: mine, frameVersion: w.frameVersion + 1 }));
    }
  });
}

/**
 * Put frame 1 of the trajectory on the workbench. A trajectory is for looking at and analysing even when the
 * loaded model cannot run it (another code's elements): then it is shown without an engine, and the reason given.
 */
function showTrajectorySystem(first: Structure, name: string): void {
  const check = checkForRun(first);
  shownSystem = first;
  if (check.errors.length === 0) {
    loadSystem(first, name);
    return;
  }
  setSystem(first, name);
  unloadSystem();
  const why = `${name} can be played and analysed, but this model cannot run it: ${check.errors.join('; ')}`;
  useWorkbench.setState({ systemBlocked: true, systemError: why, systemWarnings: check.warnings });
  notify('warning', why);
}

/**
 * Open a dropped or picked structure file: several frames make a trajectory, one frame a structure (as before).
 * `refuse` shows a file that cannot be read (and keeps the current system).
 */
export async function openStructureFile(
  file: Blob,
  fileName: string,
  refuse: (p: FileProblem) => false,
  name = fileName.replace(/\.[^.]+$/, ''),
): Promise<boolean> {
  watchWorkbench();
  useTrajectory.setState({ opening: { fileName, fraction: 0, frames: 0 } });
  const { id, outcome } = await openTrajectoryOffThread(file, fileName, (fraction, frames) =>
    useTrajectory.setState({ opening: { fileName, fraction, frames } }),
  );
  useTrajectory.setState({ opening: null });
  // The listed model that can run what was opened (frame 1), if the loaded one cannot.
  const first = outcome.ok ? outcome.summary.first : outcome.first;
  if (first) await fitModelTo(first, name);
  if (!outcome.ok) {
    if (!outcome.first) return refuse(outcome.error);
    // Readable, but its frames are not one system (a data set of molecules): frame 1 opens alone, as it did before.
    const why = `${describeProblem(outcome.error)}; opened frame 1 on its own`;
    const loaded = loadSystem(outcome.first, name);
    if (loaded) {
      pause();
      useTrajectory.setState({ open: null, attached: false, refusal: why, rdf: null });
      notify('warning', `${fileName} is not a trajectory: ${why}`);
    }
    return loaded;
  }
  const { summary } = outcome;
  if (summary.frames === 1) {
    const loaded = loadSystem(summary.first, name);
    if (loaded) {
      pause();
      useTrajectory.setState({ open: null, attached: false, refusal: null, rdf: null });
    }
    return loaded;
  }
  pause();
  resetShown();
  useTrajectory.setState((t) => ({ open: { id, name, summary }, index: 0, attached: true, refusal: null, rdf: null, version: t.version + 1 }));
  showTrajectorySystem(summary.first, name);
  return true;
}

/** Show the open trajectory again after MD ran from it, at the frame last shown. */
export function viewTrajectory(): void {
  const t = useTrajectory.getState();
  if (!t.open) return;
  showTrajectorySystem(t.open.summary.first, t.open.name);
  useTrajectory.setState({ attached: true });
  void showFrame(t.index);
}

/**
 * Hand frame k (0-based) to the MD engine as the new system: positions, cell and, when the file has them,
 * velocities or momenta (else velocities are drawn at the set temperature, as for any structure).
 */
export async function continueFromFrame(k: number): Promise<boolean> {
  const t = useTrajectory.getState();
  if (!t.open) return false;
  pause();
  const outcome = await frameOffThread(t.open.id, k, t.open.summary.fileName);
  if (!outcome.ok) {
    notify('error', `Could not read frame ${k + 1}: ${describeProblem(outcome.error)}`);
    return false;
  }
  const s = outcome.structure;
  const arrays: Structure['arrays'] = {};
  for (const key of ['velocities', 'momenta'] as const) if (s.arrays?.[key]) arrays[key] = s.arrays[key];
  const st: Structure = { numbers: s.numbers, positions: s.positions, cell: s.cell, pbc: s.pbc, charge: s.charge, spin: s.spin, arrays };
  useTrajectory.setState({ attached: false, index: k });
  const loaded = loadSystem(st, `${t.open.name} frame ${k + 1}`);
  if (loaded) {
    const v = arrays.velocities ? 'the file\'s velocities' : arrays.momenta ? 'the file\'s momenta' : 'velocities drawn at the set temperature';
    notify('info', `MD continues from frame ${k + 1} of ${t.open.name} with ${v}: press Run or Step.`);
  }
  return loaded;
}

/** g(r) over frames from..to (1-based, inclusive) every `stride`, computed in the parser worker. */
export async function computeTrajectoryRdf(q: RdfQuery, label: string): Promise<void> {
  const t = useTrajectory.getState();
  if (!t.open) return;
  const outcome = await rdfOffThread(t.open.id, q, t.open.summary.fileName);
  if (!outcome.ok) return void notify('error', `g(r) failed: ${describeProblem(outcome.error)}`);
  if (!outcome.rdf) return void notify('warning', 'g(r) needs fully periodic frames with atoms of the chosen elements.');
  useTrajectory.setState((s) => ({ rdf: { ...outcome.rdf!, label, frames: outcome.frames }, version: s.version + 1 }));
}
