// Positions for formats that store a cell only as lengths and angles (DCD, PDB CRYST1). Readers rebuild such a
// cell in the standard orientation (a along x, b in the xy plane), so positions written with it must be in
// that orientation too, or atoms would sit in the wrong place relative to the box.

import { cellDeterminant, cellFromParameters, cellInverse, cellParameters, cellProblem } from '../geometry/cell';
import { StructureWriteError } from './writeErrors';

export type CellParameters = [number, number, number, number, number, number];

export interface ParameterFrame {
  /** Positions (Å, N×3) in the standard orientation of `parameters`; the input array itself when already so. */
  positions: Float64Array;
  /** a, b, c (Å), α, β, γ (degrees). */
  parameters: CellParameters;
}

/**
 * Expresses `positions` in the standard orientation of `cell` (rows a, b, c in Å). A cell already in that
 * orientation (as ASE and our readers build them) is passed through untouched, so no rounding is added.
 * A left-handed or degenerate cell (see cellProblem) cannot be described by lengths and angles and is refused.
 */
export function toParameterFrame(positions: Float64Array, cell: ArrayLike<number>, format: string): ParameterFrame {
  const problem = cellProblem(cell);
  if (problem) throw new StructureWriteError(format, problem);
  const parameters = cellParameters(cell);
  const [a, b, c] = parameters;
  const det = cellDeterminant(cell);
  if (det < 0) {
    throw new StructureWriteError(format, `the cell is left-handed (a·(b×c) < 0); ${format} describes a cell by lengths and ` +
      'angles, which fixes a right-handed one, so it would hold the mirror image: export extXYZ, which keeps the cell as it is');
  }
  const tol = 1e-12 * Math.max(a, b, c);
  // Lower-triangular with a positive diagonal (det > 0 then makes c_z positive too).
  if (Math.abs(cell[1]) <= tol && Math.abs(cell[2]) <= tol && Math.abs(cell[5]) <= tol && cell[0] > 0 && cell[4] > 0) {
    return { positions, parameters };
  }
  const std = cellFromParameters(...parameters);
  // Row-vector convention: r_std = r · cell⁻¹ · std (fractional coordinates kept, a rotation since both are right-handed).
  const inv = cellInverse(cell);
  const m = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) m[3 * i + j] = inv[3 * i] * std[j] + inv[3 * i + 1] * std[3 + j] + inv[3 * i + 2] * std[6 + j];
  }
  const out = new Float64Array(positions.length);
  for (let p = 0; p < positions.length; p += 3) {
    const [x, y, z] = [positions[p], positions[p + 1], positions[p + 2]];
    for (let j = 0; j < 3; j++) out[p + j] = x * m[j] + y * m[3 + j] + z * m[6 + j];
  }
  return { positions: out, parameters };
}
