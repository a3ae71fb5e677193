// Exports of the current run: thermo as CSV (one row per sample, units in the header), the stored trajectory as
// multi-frame extXYZ (src/io/xyz.ts, so ASE reads it back) or DCD (src/io/dcd.ts, for VMD, MDAnalysis, mdtraj),
// and the current frame as PDB (src/io/pdbWrite.ts), which also serves as the topology those tools need for a DCD.

import { writeDcd } from '../io/dcd';
import { writePdb } from '../io/pdbWrite';
import type { Structure } from '../io/structure';
import { writeExtXyz } from '../io/xyz';
import { csvHeader, csvLine } from '../md/observables';
import type { Frame, ThermoSeries } from './store';

/** Thermo CSV in the MD engine's columns (the same file `npm run md -- --log` writes). */
export function thermoCsv(t: ThermoSeries): string {
  return [csvHeader(), ...t.rows.map(csvLine)].join('\n') + '\n';
}

export function trajectoryExtXyz(system: Structure, frames: Frame[]): string {
  const list: Structure[] = frames.map((f) => ({
    numbers: system.numbers,
    positions: f.positions,
    cell: f.cell,
    pbc: system.pbc,
    charge: system.charge,
    spin: system.spin,
    info: { step: f.step, time_fs: f.time_fs },
  }));
  return writeExtXyz(list, { decimals: 6 });
}

export interface DcdExport {
  bytes: Uint8Array<ArrayBuffer>;
  /**
   * False when the frames are not evenly spaced in steps and time (the stored trajectory is thinned as it grows,
   * and the step or frame interval may change mid-run): DCD keeps one interval, so readers' frame times are then
   * approximate; the positions and cells are exact either way.
   */
  evenlySpaced: boolean;
}

/** The stored trajectory as DCD. `timeStep_fs` is used only when there is a single frame to take it from. */
export function trajectoryDcd(system: Structure, frames: Frame[], timeStep_fs: number): DcdExport {
  const first = frames[0];
  const stepInterval = frames.length > 1 ? Math.max(1, frames[1].step - first.step) : 1;
  const dt = frames.length > 1 && frames[1].step > first.step ? (frames[1].time_fs - first.time_fs) / (frames[1].step - first.step) : timeStep_fs;
  const evenlySpaced = frames.every((f, k) => f.step === first.step + k * stepInterval &&
    Math.abs(f.time_fs - (first.time_fs + k * stepInterval * dt)) <= 1e-6 * Math.max(1, Math.abs(f.time_fs)));
  // A cell on a system with no periodic direction only frames the view; DCD readers would take it as a periodic box.
  const periodic = system.pbc.some(Boolean);
  const bytes = writeDcd(frames.map((f) => ({ positions: f.positions, cell: periodic ? f.cell : null })),
    { firstStep: Math.max(0, first.step), stepInterval, timeStep_fs: dt > 0 ? dt : timeStep_fs }, 'scaip-web workbench trajectory');
  return { bytes, evenlySpaced };
}

/** The current frame as PDB, with the system's elements and the frame's cell (CRYST1 when any direction is periodic). */
export function framePdb(system: Structure, frame: Frame, title: string): string {
  return writePdb({ ...system, positions: frame.positions, cell: system.pbc.some(Boolean) ? frame.cell : null }, title);
}

/**
 * A download name's stem in portable ASCII ("water box, 64 H₂O" → "water_box_64_H2O"): mdtraj's DCD reader
 * cannot open a path with non-ASCII characters, and spaces and commas trip up command lines.
 */
export function portableFileStem(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^[_.]+|_+$/g, '');
  return ascii || 'run';
}
