// Exports of the current run: thermo as CSV (one row per sample, units in the header) and the
// stored trajectory as multi-frame extXYZ (written by src/io/xyz.ts so ASE reads it back).

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
