// Exports of the current run: thermo as CSV (one row per sample, ASE units in the header) and the
// stored trajectory as multi-frame extXYZ (written by src/io/xyz.ts so ASE reads it back).

import type { Structure } from '../io/structure';
import { writeExtXyz } from '../io/xyz';
import type { Frame, ThermoSeries } from './store';

export const THERMO_COLUMNS = [
  'step', 'time_ps', 'epot_eV', 'ekin_eV', 'econs_eV', 'temperature_K', 'pressure_bar', 'volume_A3', 'density_g_cm3',
] as const;

export function thermoCsv(t: ThermoSeries): string {
  const cols = [t.step, t.time_ps, t.epot, t.ekin, t.etot, t.temperature, t.pressure, t.volume, t.density];
  const lines = [THERMO_COLUMNS.join(',')];
  for (let i = 0; i < t.step.length; i++) {
    // Empty field for "not defined" (pressure/density of a molecule), which spreadsheets read as blank.
    lines.push(cols.map((c) => (Number.isFinite(c[i]) ? String(c[i]) : '')).join(','));
  }
  return lines.join('\n') + '\n';
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
