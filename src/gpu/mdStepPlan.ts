// GPU memory and dispatches of one NVE MD step with a model, without a GPU: the real MD engine
// (src/md/gpuEngine.ts) and the resident AllScAIP provider record their program on a stand-in device
// (planDevice.ts) exactly as on a GPU, at the slot budget the run would choose. The only number a real
// run reads back from the GPU, the fullest graph row, comes from the float64 CPU graph of the same system.
import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { buildNeighborGraph } from '../cpu/graph';
import { periodicCell } from '../geometry/cell';
import { GpuMdEngine } from '../md/gpuEngine';
import { systemFromStructure } from '../md/setup';
import { DEFAULT_SETTINGS } from '../md/types';
import { AllScaipWebGpu } from './forceProvider';
import { createPlanDevice, PlanDeviceLog } from './planDevice';

export interface MdStepPlan {
  atoms: number;
  /** Slot budget K of the step program. */
  slots: number;
  /** Bytes of every GPU buffer the running engine holds (model weights, activations, engine state). */
  bytes: number;
  bytes_per_atom: number;
  /** The largest storage binding any kernel of the step sees (a whole buffer or the range of one). */
  largest_binding: { name: string; bytes: number };
  /** The largest GPU buffer (may be more than a binding where kernels bind ranges of it). */
  largest_buffer: { name: string; bytes: number };
  /** Compute dispatches encoded for one NVE step (integrator and the model's energy-and-forces program). */
  dispatches_per_md_step: number;
  /** The same by kernel (label:entry point), most first. */
  dispatches_by_kernel: Record<string, number>;
}

/** Most edges of any row of the graph (centre rows and neighbour rows): what the GPU graph reports as maxEdges. */
export function graphMaxEdges(model: LoadedModel, s: Structure, positions: Float64Array = s.positions): number {
  const g = buildNeighborGraph(positions, periodicCell(s.cell, s.pbc), model.config.architecture);
  let most = 0;
  for (let i = 0; i < g.numAtoms; i++) {
    most = Math.max(most, g.edgeRowStart[i + 1] - g.edgeRowStart[i], g.dstRowStart[i + 1] - g.dstRowStart[i]);
  }
  return most;
}

/**
 * Record the engine and the model's step program for `structure` on a stand-in device and measure it. With
 * `bindingLimit` the device reports that maxStorageBufferBindingSize, so the program is the one an adapter with
 * that limit runs (chunked where needed), or the runtime's DeviceLimitError where it cannot plan around it.
 */
export async function planMdStep(
  model: LoadedModel, structure: Structure, options: { bindingLimit?: number; maxEdges?: number } = {},
): Promise<MdStepPlan> {
  const system = systemFromStructure(structure, { temperature: DEFAULT_SETTINGS.temperature, seed: DEFAULT_SETTINGS.seed });
  const log = new PlanDeviceLog();
  // (a caller that knows the fullest row, e.g. a test of a large system, skips the float64 graph)
  const plannedMaxEdges = options.maxEdges ?? graphMaxEdges(model, structure, system.positions);
  const provider = new AllScaipWebGpu(model, structure.charge, structure.spin, { plannedMaxEdges });
  const device = createPlanDevice(log, options.bindingLimit ? { maxStorageBufferBindingSize: options.bindingLimit } : {});
  const engine = await GpuMdEngine.create(device, system, provider, { ...DEFAULT_SETTINGS, ensemble: 'nve' });
  try {
    const before = log.dispatches;
    const beforeByKernel = new Map(log.dispatchesByKernel);
    await engine.run(1, { sampleEvery: 1, onSample: () => undefined });
    const byKernel = [...log.dispatchesByKernel].map(([k, n]) => [k, n - (beforeByKernel.get(k) ?? 0)] as const)
      .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const atoms = structure.numbers.length;
    const bytes = log.deviceBytes;
    return {
      atoms, slots: provider.slots, bytes, bytes_per_atom: Math.round(bytes / atoms),
      largest_binding: log.largestBinding, largest_buffer: log.largestBuffer, dispatches_per_md_step: log.dispatches - before,
      dispatches_by_kernel: Object.fromEntries(byKernel),
    };
  } finally {
    engine.destroy(); // and its provider
  }
}
