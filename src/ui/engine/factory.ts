// Builds the MD engine the worker runs: the force provider the user chose (AllScAIP model or the
// Lennard-Jones baseline) on the backend available (WebGPU device or CPU), fresh or from a checkpoint.

import type { Structure } from '../../io/structure';
import type { LoadedModel } from '../../model/config';
import { CpuMdEngine } from '../../md/cpuEngine';
import type { CpuForceProvider } from '../../md/forceProvider';
import { GpuMdEngine } from '../../md/gpuEngine';
import { ARGON, LennardJonesCpu, type LjParams } from '../../md/lj';
import { LennardJonesGpu } from '../../md/ljGpu';
import type { GpuForceProvider } from '../../md/forceProvider';
import { AllScaipWebGpu } from '../../gpu/forceProvider';
import { AllScaipCpu } from '../../md/allscaipCpu';
import { systemForModel, systemFromStructure } from '../../md/setup';
import type { EngineCheckpoint, MdEngine, MdSettings, MdSystem } from '../../md/types';

export interface EngineRequest {
  provider: 'allscaip' | 'lj';
  model: LoadedModel | null;
  device: GPUDevice | null;
  structure: Structure;
  settings: MdSettings;
  /** Continue this state instead of starting from `structure` (settings above replace the checkpoint's). */
  resume: EngineCheckpoint | null;
  /** The user's override: run elements the model was not trained on (the page checked the system with it too). */
  allowUntrainedElements: boolean;
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
  const numbers = Int32Array.from(req.structure.numbers);
  if (req.provider === 'lj') return new LennardJonesCpu(numbers, ljParamsFor(req.structure));
  if (!req.model) throw new Error('no AllScAIP model is loaded: load one (model.json + .safetensors) or choose Lennard-Jones');
  return new AllScaipCpu(req.model, numbers, req.structure.charge, req.structure.spin);
}

/**
 * GPU-side provider: Lennard-Jones in WGSL; AllScAIP through the WebGPU float32 runtime on the engine's device
 * (src/gpu/forceProvider.ts: GPU-resident, one frozen program replayed per step, no read-back).
 */
function gpuProvider(req: EngineRequest): GpuForceProvider {
  if (req.provider === 'lj') {
    const lj = new LennardJonesGpu(Int32Array.from(req.structure.numbers), ljParamsFor(req.structure));
    lj.checkBox(req.structure.cell, req.structure.pbc);
    return lj;
  }
  if (!req.model) throw new Error('no AllScAIP model is loaded: load one (model.json + .safetensors) or choose Lennard-Jones');
  return new AllScaipWebGpu(req.model, req.structure.charge, req.structure.spin);
}

/** The engine on the worker's device when there is one (the GPU engine), else the float64 CPU engine. */
export async function buildEngine(req: EngineRequest): Promise<MdEngine> {
  const resume = req.resume ? { ...req.resume, settings: req.settings } : null;
  if (req.device) {
    const provider = gpuProvider(req);
    if (resume?.backend === 'webgpu') return GpuMdEngine.fromCheckpoint(req.device, resume, provider);
    // A CPU checkpoint (or none) starts the GPU engine from the host state it holds.
    const system = resume ? systemFromCheckpoint(req, resume) : fresh(req);
    return GpuMdEngine.create(req.device, system, provider, req.settings);
  }
  const provider = cpuProvider(req);
  if (resume?.backend === 'cpu') return CpuMdEngine.fromCheckpoint(resume, provider);
  return new CpuMdEngine(resume ? systemFromCheckpoint(req, resume) : fresh(req), provider, req.settings);
}

/**
 * A new system from the structure. With the model's forces the engine set-up refuses what the model cannot compute
 * (UnsupportedSystemError), as the page's check did: nothing unchecked reaches the engine whatever sent it.
 */
function fresh(req: EngineRequest): MdSystem {
  const opts = { temperature: req.settings.temperature, seed: req.settings.seed };
  if (req.provider === 'allscaip' && req.model) {
    return systemForModel(req.structure, req.model.config, { ...opts, allowUntrainedElements: req.allowUntrainedElements }).system;
  }
  return systemFromStructure(req.structure, opts);
}

/** Positions, velocities and cell of a checkpoint from the other backend, as a starting system. */
function systemFromCheckpoint(req: EngineRequest, ck: EngineCheckpoint): MdSystem {
  const n = ck.numbers.length;
  const vec = (name: string): Float64Array => {
    const b = ck.blobs[name];
    if (!b) throw new Error(`checkpoint is missing "${name}"`);
    if (ck.backend === 'cpu') return new Float64Array(b.slice().buffer);
    const f = new Float32Array(b.slice().buffer); // GPU layout: N × vec4<f32>
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = f[4 * i + k];
    return out;
  };
  let cell: Float64Array | null = null;
  if (ck.backend === 'cpu') cell = ck.blobs.cell ? new Float64Array(ck.blobs.cell.slice().buffer) : null;
  else {
    const box = new Float32Array(ck.blobs.box.slice().buffer);
    cell = box[9] > 0 ? Float64Array.from(box.subarray(0, 9)) : null;
  }
  return {
    numbers: Int32Array.from(ck.numbers), masses: Float64Array.from(ck.masses), positions: vec('positions'),
    velocities: vec('velocities'), cell, pbc: ck.pbc, molecules: Int32Array.from(ck.molecules),
  };
}
