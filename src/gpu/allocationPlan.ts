// The GPU memory a model needs for a system size, without a GPU: runs GpuModel.compute against a
// runtime that records every pooled buffer's size instead of allocating it, with the slot budget
// fixed at its worst case. Used to check that memory grows linearly in N (no N×N buffer) and to
// tell a user before a run which system size a device can take.
import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import { GpuRuntime, Kernel, Recorder, type KernelSource } from './runtime';
import { GpuModel } from './model';
import { safeSlotBudget } from './ops/graph';

class PlanRecorder extends Recorder {
  /** Nothing runs; the workspace tensors still get their (recorded) buffers. */
  override submit(): void {
    this.assignTensors();
  }
}

/** Records buffer sizes by name; dispatches and uploads do nothing. */
class PlanningRuntime extends GpuRuntime {
  readonly sizes = new Map<string, number>();

  constructor() {
    const limits = { maxComputeWorkgroupsPerDimension: 65535, minUniformBufferOffsetAlignment: 256, maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER };
    super({ addEventListener() {}, limits } as unknown as GPUDevice);
  }

  override buffer(name: string, bytes: number): GPUBuffer {
    const need = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.sizes.set(name, Math.max(this.sizes.get(name) ?? 0, need));
    return { label: name, size: need } as unknown as GPUBuffer;
  }

  override upload(name: string, data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    return this.buffer(name, data.byteLength);
  }

  override kernel(src: KernelSource): Kernel {
    return new Kernel(src.label, {} as GPUComputePipeline, new Map(), undefined);
  }

  override recorder(label = 'plan'): Recorder {
    return new PlanRecorder(this, label);
  }

  override async read(_buffer: GPUBuffer, count: number): Promise<Float32Array> {
    return new Float32Array(count);
  }
}

export interface AllocationPlan {
  numAtoms: number;
  /** Slots per atom assumed (the worst case the graph can produce). */
  slots: number;
  totalBytes: number;
  largest: { name: string; bytes: number };
  buffers: Map<string, number>;
}

/** Buffers the WebGPU runtime allocates for `numAtoms` atoms of this model (periodic box of that many atoms). */
export async function planAllocation(model: LoadedModel, numAtoms: number): Promise<AllocationPlan> {
  const rt = new PlanningRuntime();
  const side = Math.cbrt(numAtoms * 10); // ~10 Å³ per atom; the contents do not matter for the sizes
  const structure: Structure = {
    numbers: new Int32Array(numAtoms).fill(8), positions: new Float64Array(3 * numAtoms),
    cell: Float64Array.from([side, 0, 0, 0, side, 0, 0, 0, side]), pbc: [true, true, true], charge: 0, spin: 1,
  };
  const slots = safeSlotBudget(model.config.architecture);
  await new GpuModel(rt, model).compute(structure, { slots });
  let largest = { name: '', bytes: 0 };
  let total = 0;
  for (const [name, bytes] of rt.sizes) {
    total += bytes;
    if (bytes > largest.bytes) largest = { name, bytes };
  }
  return { numAtoms, slots, totalBytes: total, largest, buffers: rt.sizes };
}
