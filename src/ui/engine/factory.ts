// Builds the MD engine the worker runs: the force provider the user chose (AllScAIP model or the
// Lennard-Jones baseline) on the backend available (WebGPU device or CPU), fresh or from a checkpoint.

import type { Structure } from '../../io/structure';
import type { LoadedModel } from '../../model/config';
import { CpuMdEngine } from '../../md/cpuEngine';
import type { CpuForceProvider } from '../../md/forceProvider';
import { ARGON, LennardJonesCpu, type LjParams } from '../../md/lj';
import { systemFromStructure } from '../../md/setup';
import type { EngineCheckpoint, MdEngine, MdSettings } from '../../md/types';

export interface EngineRequest {
  provider: 'allscaip' | 'lj';
  model: LoadedModel | null;
  device: GPUDevice | null;
  structure: Structure;
  settings: MdSettings;
  /** Continue this state instead of starting from `structure` (settings above replace the checkpoint's). */
  resume: EngineCheckpoint | null;
}

/**
 * Lennard-Jones baseline parameters: argon for noble-gas-like atoms, SPC/E's oxygen for O and no LJ site on H
 * (as in rigid water models), so water boxes do not blow up; a baseline for integrators, not chemistry.
 */
export function ljParamsFor(s: Structure): LjParams {
  const half = s.cell && s.pbc.every(Boolean) ? 0.5 * Math.min(s.cell[0], s.cell[4], s.cell[8]) : Infinity;
  return {
    species: {
      1: { epsilon: 0, sigma: 1 },
      8: { epsilon: 0.1553 * 0.0433641, sigma: 3.166 },
      18: ARGON,
    },
    default: ARGON,
    cutoff: Math.min(8.5, half - 1e-6),
    shift: true,
    tailCorrection: false,
  };
}

function cpuProvider(req: EngineRequest): CpuForceProvider {
  if (req.provider === 'lj') return new LennardJonesCpu(Int32Array.from(req.structure.numbers), ljParamsFor(req.structure));
  throw new Error('the AllScAIP force provider for the MD engine is not available in this build yet; choose Lennard-Jones');
}

export async function buildEngine(req: EngineRequest): Promise<MdEngine> {
  const provider = cpuProvider(req);
  if (req.resume) {
    if (req.resume.backend === 'cpu') return CpuMdEngine.fromCheckpoint({ ...req.resume, settings: req.settings }, provider);
  }
  const system = systemFromStructure(req.structure, { temperature: req.settings.temperature, seed: req.settings.seed });
  return new CpuMdEngine(system, provider, req.settings);
}
