// Reads exported PDB/DCD files back with MDAnalysis, mdtraj and ASE (test/helpers/read_back.py, one Python process).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface ToolReading {
  frames: number;
  atoms: number;
  /** Per frame, N×3 flattened, Å. */
  positions: number[][];
  /** Per frame [a, b, c, α, β, γ] (Å, degrees), or null without a cell. */
  cells: ([number, number, number, number, number, number] | null)[];
  elements: string[];
  times_ps?: number[];
}

export interface ReadBack {
  mdanalysis: ToolReading;
  mdtraj: ToolReading;
  /** Only when no trajectory is given: ASE's reading of the PDB (cell as cellpar, null unless fully periodic). */
  ase?: { numbers: number[]; positions: number[]; cell: number[] | null; pbc: boolean[] };
}

export function readBack(topologyPdb: string, trajectoryDcd?: string): ReadBack {
  const script = join(__dirname, 'read_back.py');
  const args = trajectoryDcd ? [script, topologyPdb, trajectoryDcd] : [script, topologyPdb];
  // UTF-8 file names (the workbench names downloads after the system, e.g. "64 H₂O") whatever the locale.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', PYTHONUTF8: '1' };
  return JSON.parse(execFileSync('/usr/bin/python3', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }));
}
