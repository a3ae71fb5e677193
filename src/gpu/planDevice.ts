// A stand-in GPUDevice for planning without a GPU: the real runtime, model recording and MD engine run
// against it unchanged, and it keeps what they ask of a device (every buffer with its label and size, and
// the dispatches encoded) instead of doing the work. Reads return zeros, so numbers that a real run reads
// back from the GPU (the graph's edge count) must be supplied by the caller.

/** WebGPU's flag constants (spec values), for a Node process without the Dawn globals installed. */
function ensureGpuConstants(): void {
  const g = globalThis as Record<string, unknown>;
  g.GPUBufferUsage ??= { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 };
  g.GPUMapMode ??= { READ: 1, WRITE: 2 };
  g.GPUShaderStage ??= { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 };
}

export interface PlannedBuffer { label: string; size: number; usage: number }

/** What the stand-in device has been asked for. */
export class PlanDeviceLog {
  /** Live buffers (destroyed ones are removed). */
  readonly buffers = new Set<PlannedBuffer>();
  /** dispatchWorkgroups calls encoded so far. */
  dispatches = 0;
  /** The same, by the label of the pipeline each was encoded with (kernel:entry point). */
  readonly dispatchesByKernel = new Map<string, number>();

  noteDispatch(kernel: string): void {
    this.dispatches++;
    this.dispatchesByKernel.set(kernel, (this.dispatchesByKernel.get(kernel) ?? 0) + 1);
  }

  /** Bytes of live buffers that hold GPU data (MAP_READ staging copies for read-back excluded). */
  get deviceBytes(): number {
    let s = 0;
    for (const b of this.buffers) if (!(b.usage & GPUBufferUsage.MAP_READ)) s += b.size;
    return s;
  }

  /** The largest live storage buffer. */
  get largestBuffer(): { name: string; bytes: number } {
    let best = { name: '', bytes: 0 };
    for (const b of this.buffers) if (b.usage & GPUBufferUsage.STORAGE && b.size > best.bytes) best = { name: b.label, bytes: b.size };
    return best;
  }

  /** The largest storage binding of any bind group made so far (a buffer, or the range of one a kernel sees). */
  largestBinding = { name: '', bytes: 0 };

  /** Storage bindings of the bind groups made so far, by bytes (the adapter limit applies to each). */
  noteBinding(name: string, bytes: number): void {
    if (bytes > this.largestBinding.bytes) this.largestBinding = { name, bytes };
  }
}

/**
 * Limits as generous as the largest adapters report, so the plan shows sizes rather than failing on them;
 * createPlanDevice may set maxStorageBufferBindingSize lower, as an adapter would, to plan for it.
 */
const PLAN_LIMITS = {
  maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER, maxBufferSize: Number.MAX_SAFE_INTEGER,
  maxStorageBuffersPerShaderStage: 16, maxComputeWorkgroupsPerDimension: 65535, minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
  maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024, maxUniformBufferBindingSize: 65536,
};

type Backed = GPUBuffer & { data: Uint8Array | null };

const backing = (b: Backed): Uint8Array => (b.data ??= new Uint8Array(b.size));

/** A buffer that keeps its contents only once something is written or copied into it. */
function plannedBuffer(log: PlanDeviceLog, d: GPUBufferDescriptor): GPUBuffer {
  const rec: PlannedBuffer = { label: d.label ?? '(unnamed)', size: d.size, usage: d.usage };
  log.buffers.add(rec);
  const buf = {
    label: rec.label, size: d.size, usage: d.usage, data: null,
    destroy() { log.buffers.delete(rec); },
    mapAsync: async () => {},
    getMappedRange: () => (buf.data ? buf.data.slice().buffer : new ArrayBuffer(d.size)),
    unmap() {},
  } as unknown as Backed;
  return buf;
}

/** Notes every storage binding of a bind group (the adapter's binding limit applies to each). */
function noteBindings(log: PlanDeviceLog, d: GPUBindGroupDescriptor): object {
  for (const e of d.entries) {
    const r = e.resource as GPUBufferBinding;
    const buf = r.buffer as unknown as PlannedBuffer | undefined;
    if (!buf || !(buf.usage & GPUBufferUsage.STORAGE)) continue;
    log.noteBinding(`${buf.label}${r.offset ? ` @${r.offset}` : ''} (${d.label ?? 'kernel'})`, r.size ?? buf.size - (r.offset ?? 0));
  }
  return {};
}

/** queue.writeBuffer: dataOffset/size count bytes for an ArrayBuffer and elements for a typed array (WebGPU's rule). */
function writePlanned(dst: Backed, offset: number, data: ArrayBuffer | ArrayBufferView, dataOffset = 0, size?: number): void {
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  const unit = ArrayBuffer.isView(data) ? (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1 : 1;
  const from = dataOffset * unit;
  const to = size === undefined ? bytes.length : from + size * unit;
  backing(dst).set(bytes.subarray(from, to), offset);
}

/** A command encoder whose compute passes count dispatches by pipeline and whose copies run when encoded. */
function planEncoder(log: PlanDeviceLog) {
  let pipeline = '';
  const pass = {
    setPipeline(p: { label?: string }) { pipeline = p.label ?? ''; }, setBindGroup() {}, end() {},
    dispatchWorkgroups() { log.noteDispatch(pipeline); },
  };
  return {
    beginComputePass: () => pass, clearBuffer() {}, resolveQuerySet() {}, finish: () => ({}),
    copyBufferToBuffer(src: Backed, srcOffset: number, dst: Backed, dstOffset: number, size: number) {
      if (src.data) backing(dst).set(src.data.subarray(srcOffset, srcOffset + size), dstOffset);
      else if (dst.data) dst.data.fill(0, dstOffset, dstOffset + size);
    },
  };
}

/**
 * A device that records instead of computing; pass `log` to read what was asked of it. Buffer contents are
 * kept only for buffers written from the host or copied into (uploads, the engine's positions and box) so
 * that host read-backs of them see real data; copies run when encoded, as they are submitted in that order.
 */
export function createPlanDevice(log: PlanDeviceLog, options: { maxStorageBufferBindingSize?: number } = {}): GPUDevice {
  ensureGpuConstants();
  const layout = { label: 'plan-layout' } as GPUBindGroupLayout;
  const device = {
    label: 'plan device',
    limits: { ...PLAN_LIMITS, ...options },
    features: new Set<string>(),
    lost: new Promise<GPUDeviceLostInfo>(() => {}),
    addEventListener() {},
    createBuffer: (d: GPUBufferDescriptor) => plannedBuffer(log, d),
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({ label: d.label ?? '' }),
    createBindGroupLayout: () => layout,
    createPipelineLayout: () => ({}),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => ({ label: d.label ?? '', getBindGroupLayout: () => layout }),
    createBindGroup: (d: GPUBindGroupDescriptor) => noteBindings(log, d),
    createQuerySet: () => ({ destroy() {} }),
    createCommandEncoder: () => planEncoder(log),
    queue: { writeBuffer: writePlanned, submit() {}, onSubmittedWorkDone: async () => {} },
    destroy() {},
  };
  return device as unknown as GPUDevice;
}
