// Pipeline cache, buffer pool and dispatch recorder shared by every kernel wrapper in ./ops.
// Uniform layouts come from the WGSL itself (webgpu-utils reflection), never hand padding.
import './float16Shim';
import { makeStructuredView, type VariableDefinition } from 'webgpu-utils';
import { DeviceLimitError, DeviceLostError, GpuValidationError } from './errors';
import { shaderDefinitions } from './reflect';
import { Tensor, TensorSlice, Workspace, type TensorUse } from './workspace';

export interface KernelSource {
  /** Shown in validation errors and GPU debuggers. */
  label: string;
  code: string;
  entryPoint: string;
  /** WGSL `override` values; part of the cache key. */
  constants?: Record<string, number>;
}

/** A compiled entry point and what its bindings are called. */
export class Kernel {
  constructor(
    readonly label: string,
    readonly pipeline: GPUComputePipeline,
    /** binding index by variable name, for the resources this entry point uses */
    readonly bindings: Map<string, number>,
    /** the `var<uniform> params` definition, if the entry point uses one */
    readonly params: VariableDefinition | undefined,
    /** bindings declared read_write (null: not known, as on the planning runtime) */
    readonly writable: Set<string> | null = null,
  ) {}
}

/** A binding an option switched off (Recorder.dispatch binds a placeholder buffer of the binding's access). */
export class UnusedBinding {
  private readonly unused = true;
}
/** The one UnusedBinding: `bias: layer.bias ?? UNUSED`. */
export const UNUSED = new UnusedBinding();

/** A buffer, a range of one, or a workspace tensor or rows of one (its buffer is chosen when the recording ends). */
type Bound = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number } | Tensor | TensorSlice;
/** What a dispatch binds: a Bound, or UNUSED. */
export type Binding = Bound | UnusedBinding;
/** What a kernel reads or writes: a pooled buffer (weights, graph), a workspace tensor or rows of one. */
export type Operand = GPUBuffer | Tensor | TensorSlice;
export type ParamValues = Record<string, number | number[]>;

interface Pending {
  /** Model stage the dispatch belongs to (Recorder.stage), for per-stage GPU timestamps. */
  stage: string;
  kernel: Kernel;
  bindings: Record<string, Bound>;
  uniformOffset: number;
  uniformSize: number;
  grid: [number, number];
}

const f32 = Float32Array.BYTES_PER_ELEMENT;

/**
 * Compiled kernels per device, shared by every runtime on it: a model rebuilt on the same device (a new MD
 * run, another system size) reuses its pipelines instead of compiling them again (seconds each on a CPU driver).
 */
const kernelsByDevice = new WeakMap<GPUDevice, Map<string, Kernel>>();

export class GpuRuntime {
  private readonly kernels: Map<string, Kernel>;
  private readonly pool = new Map<string, GPUBuffer>();
  private uniformArena: GPUBuffer | null = null;
  /** Bytes currently held by pooled buffers (the allocation plan's footprint). */
  allocatedBytes = 0;
  /**
   * Most bytes one storage binding may cover: the device's maxStorageBufferBindingSize unless set lower
   * (tests set it to a few kB to make the model chunk small systems). Recording plans around it (atom chunks,
   * head groups) and refuses a binding over it with DeviceLimitError.
   */
  private bindingLimitOverride: number | null = null;

  get maxBinding(): number {
    const device = this.device.limits.maxStorageBufferBindingSize;
    return this.bindingLimitOverride === null ? device : Math.min(device, this.bindingLimitOverride);
  }

  set maxBinding(bytes: number | null) {
    this.bindingLimitOverride = bytes;
  }

  /** Byte offsets of storage bindings are multiples of this (minStorageBufferOffsetAlignment; 256 where unknown). */
  get bindingAlignment(): number {
    return this.device.limits.minStorageBufferOffsetAlignment ?? 256;
  }
  /**
   * Time each stage of a submission with GPU timestamps (one compute pass per stage run; see
   * Recorder.stage and Recorder.readStageTimes). Only where the device has 'timestamp-query'.
   */
  timing = false;

  get canTime(): boolean {
    return !!this.device.features?.has('timestamp-query');
  }

  /** Validation errors reported by the device and not yet thrown to a caller. */
  private readonly errors: GpuValidationError[] = [];

  constructor(readonly device: GPUDevice) {
    let kernels = kernelsByDevice.get(device);
    if (!kernels) kernelsByDevice.set(device, (kernels = new Map()));
    this.kernels = kernels;
    // An error scope per submit would cost an await per MD step; errors are collected from
    // `uncapturederror` instead and thrown at the next submit or read.
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(new GpuValidationError(errorKind(err), 'a submitted step', err.message));
    });
    // (Optional chaining: the allocation planner runs this runtime on a stand-in device.)
    void device.lost?.then((info) => {
      this.lostError = new DeviceLostError(info.reason ?? 'unknown', info.reason === 'destroyed', info.message);
    });
  }

  /** Set once the device is lost: every later submit or read throws it. */
  private lostError: DeviceLostError | null = null;

  /** Throw DeviceLostError after a loss, else the oldest unreported device error, if any. */
  throwIfErrors(): void {
    if (this.lostError) throw this.lostError;
    const e = this.errors.shift();
    if (e) {
      this.errors.length = 0;
      throw e;
    }
  }

  /** Compile once per (source, entry point, constants); later calls return the cached kernel. */
  kernel(src: KernelSource): Kernel {
    const key = `${src.label}|${src.entryPoint}|${JSON.stringify(src.constants ?? {})}|${src.code.length}`;
    const hit = this.kernels.get(key);
    if (hit) return hit;
    const defs = shaderDefinitions(src.code);
    const ep = defs.entryPoints[src.entryPoint];
    if (!ep) throw new Error(`${src.label}: WGSL has no entry point "${src.entryPoint}"`);
    // Name the kernel and the limit instead of failing later with a bind-group validation error.
    const storage = ep.resources.filter((r) => r.entry.buffer?.type === 'storage' || r.entry.buffer?.type === 'read-only-storage').length;
    const maxStorage = this.device.limits.maxStorageBuffersPerShaderStage;
    if (storage > maxStorage) {
      throw new DeviceLimitError('maxStorageBuffersPerShaderStage', storage, maxStorage, `kernel ${src.label}:${src.entryPoint}`);
    }
    const module = this.device.createShaderModule({ label: src.label, code: src.code });
    const pipeline = this.device.createComputePipeline({
      label: `${src.label}:${src.entryPoint}`,
      layout: 'auto',
      compute: { module, entryPoint: src.entryPoint, constants: src.constants },
    });
    const bindings = new Map<string, number>();
    const writable = new Set<string>();
    let params: VariableDefinition | undefined;
    for (const r of ep.resources) {
      bindings.set(r.name, r.entry.binding);
      if (r.entry.buffer?.type === 'storage') writable.add(r.name);
      if (r.name === 'params') params = defs.uniforms.params;
    }
    const k = new Kernel(`${src.label}:${src.entryPoint}`, pipeline, bindings, params, writable);
    this.kernels.set(key, k);
    return k;
  }

  /**
   * A named storage buffer of at least `bytes`, reused across steps and grown (×1.5) when a
   * larger system needs more. Contents are not preserved when it grows.
   */
  buffer(name: string, bytes: number, extraUsage = 0): GPUBuffer {
    const need = Math.max(16, Math.ceil(bytes / 16) * 16);
    const limit = this.maxBinding;
    if (need > limit) {
      throw new DeviceLimitError('maxStorageBufferBindingSize', need, limit, `buffer "${name}"`);
    }
    const old = this.pool.get(name);
    if (old && old.size >= need) return old;
    const size = old ? Math.min(limit, Math.max(need, Math.ceil((old.size * 1.5) / 16) * 16)) : need;
    if (old) this.release(name);
    const buf = this.device.createBuffer({
      label: name,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    });
    this.allocatedBytes += size;
    this.pool.set(name, buf);
    return buf;
  }

  /** Frees the pooled buffer `name` now (one whose contents are obsolete), rather than when the runtime is destroyed. */
  release(name: string): void {
    const old = this.pool.get(name);
    if (!old) return;
    this.pool.delete(name);
    this.allocatedBytes -= old.size;
    old.destroy();
    this.bindGroups.clear();
  }

  /**
   * Placeholder for a binding an override switched off (what UNUSED is bound to). Read-only and writable
   * bindings get different ones (one buffer in both roles in a pass is a validation error), and the writable
   * bindings of one dispatch each their own (`index`: the how-many-th unused writable binding it is).
   */
  dummy(role: 'read' | 'write', index = 0): GPUBuffer {
    return this.buffer(index ? `unused-${role}.${index}` : `unused-${role}`, 16);
  }

  /** Pooled buffer filled with `data` (float32 or uint32/int32 words). */
  upload(name: string, data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    const buf = this.buffer(name, data.byteLength);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** Copy `count` float32 words of `buffer` back to the CPU. */
  async read(buffer: GPUBuffer, count: number, offsetWords = 0): Promise<Float32Array> {
    this.throwIfErrors();
    const bytes = count * f32;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offsetWords * f32, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // A lost device rejects the map; report the loss, not the map failure.
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 0))]);
      this.throwIfErrors();
      throw e;
    }
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    this.throwIfErrors();
    return out;
  }

  /** Uniform buffer big enough for one recorder's parameters (reused, grown). */
  uniforms(bytes: number): GPUBuffer {
    if (!this.uniformArena || this.uniformArena.size < bytes) {
      this.uniformArena?.destroy();
      this.bindGroups.clear();
      this.uniformArena = this.device.createBuffer({
        label: 'uniform-arena',
        size: Math.max(256, Math.ceil((bytes * 1.5) / 256) * 256),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
    }
    return this.uniformArena;
  }

  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly objectIds = new WeakMap<object, number>();
  private nextObjectId = 1;

  /** Number of cached bind groups (tests check that repeated steps reuse them). */
  get cachedBindGroups(): number {
    return this.bindGroups.size;
  }

  private idOf(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) {
      id = this.nextObjectId++;
      this.objectIds.set(o, id);
    }
    return id;
  }

  /**
   * Bind group for these exact resources, created once and reused: an MD loop dispatches the
   * same kernels on the same pooled buffers every step. Cleared whenever a pooled buffer or the
   * uniform arena is replaced.
   */
  bindGroup(kernel: Kernel, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let key = String(this.idOf(kernel));
    for (const e of entries) {
      const r = e.resource as GPUBufferBinding;
      key += `|${e.binding}:${this.idOf(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`;
    }
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({ label: kernel.label, layout: kernel.pipeline.getBindGroupLayout(0), entries });
      this.bindGroups.set(key, group);
    }
    return group;
  }

  recorder(label = 'step'): Recorder {
    return new Recorder(this, label);
  }

  destroy(): void {
    for (const b of this.pool.values()) b.destroy();
    this.pool.clear();
    this.uniformArena?.destroy();
    this.bindGroups.clear();
    this.allocatedBytes = 0;
  }
}

/**
 * Collects dispatches, then at submit writes every dispatch's parameters into one uniform
 * arena (each at its own aligned offset, so the same kernel can run twice with different
 * sizes in one submission) and encodes them in order.
 */
export class Recorder {
  private readonly pending: Pending[] = [];
  private readonly uniformData: ArrayBuffer[] = [];
  private uniformBytes = 0;
  private currentStage = '';
  /** Tensors bound by this recording's dispatches; their buffers are assigned by liveness at submit or freeze. */
  readonly workspace: Workspace;
  /** Timestamps of the last timed submit: stage per pass and the read-back buffer (2 × u64 per pass). */
  private timed: { stages: string[]; readback: GPUBuffer; release: () => void } | null = null;

  constructor(
    private readonly rt: GpuRuntime,
    private readonly label: string,
  ) {
    this.workspace = new Workspace(rt);
  }

  /** Buffers for the workspace tensors of everything queued (liveness over the queued dispatches). */
  protected assignTensors(): void {
    const uses: TensorUse[] = this.pending.map((p) => ({
      kernel: p.kernel.label,
      tensors: Object.entries(p.bindings).filter((e): e is [string, Tensor | TensorSlice] => e[1] instanceof Tensor || e[1] instanceof TensorSlice)
        .map(([name, t]) => ({ tensor: t instanceof TensorSlice ? t.tensor : t, writes: p.kernel.writable ? p.kernel.writable.has(name) : null })),
    }));
    this.workspace.assign(uses);
  }

  /**
   * Queue `kernel` over `workgroups` workgroups (a flat count). Counts above
   * maxComputeWorkgroupsPerDimension are folded into a 2-D grid; kernels rebuild the flat
   * index as wid.x + wid.y·num_workgroups.x and skip indices past their own work.
   */
  dispatch(kernel: Kernel, given: Record<string, Binding>, params: ParamValues | undefined, workgroups: number): void {
    const limit = this.rt.maxBinding, align = this.rt.bindingAlignment;
    for (const name of kernel.bindings.keys()) {
      if (name !== 'params' && !(name in given)) throw new Error(`${kernel.label}: no buffer given for binding "${name}"`);
    }
    const bindings = this.placeholders(kernel, given);
    // Refused here, while recording (before anything runs), with the tensor's name: a binding over the limit
    // would be a validation error at submit, or a lost device.
    for (const [name, b] of Object.entries(bindings)) {
      const { bytes, offset, what } = bindingExtent(b);
      if (bytes > limit) throw new DeviceLimitError('maxStorageBufferBindingSize', bytes, limit, `binding "${name}" of kernel ${kernel.label} (${what})`);
      if (offset % align !== 0) throw new Error(`${kernel.label}: binding "${name}" (${what}) starts at byte ${offset}, not a multiple of ${align}`);
    }
    let uniformOffset = 0;
    let uniformSize = 0;
    if (kernel.params) {
      if (!params) throw new Error(`${kernel.label}: kernel takes params but none were given`);
      const view = makeStructuredView(kernel.params);
      view.set(params);
      const align = this.rt.device.limits.minUniformBufferOffsetAlignment;
      uniformOffset = Math.ceil(this.uniformBytes / align) * align;
      uniformSize = view.arrayBuffer.byteLength;
      this.uniformBytes = uniformOffset + uniformSize;
      this.uniformData.push(view.arrayBuffer);
    }
    this.pending.push({ stage: this.currentStage, kernel, bindings, uniformOffset, uniformSize, grid: foldGrid(workgroups, this.rt.device.limits.maxComputeWorkgroupsPerDimension) });
  }

  /** The bindings with each UNUSED replaced by a placeholder of its access (read-only, or writable per the WGSL). */
  private placeholders(kernel: Kernel, given: Record<string, Binding>): Record<string, Bound> {
    let writes = 0;
    const out: Record<string, Bound> = {};
    for (const [name, b] of Object.entries(given)) {
      out[name] = !(b instanceof UnusedBinding) ? b : kernel.writable?.has(name) ? this.rt.dummy('write', writes++) : this.rt.dummy('read');
    }
    return out;
  }

  /** Later dispatches belong to model stage `name` (per-stage timing when GpuRuntime.timing is on). */
  stage(name: string): void {
    this.currentStage = name;
  }

  /**
   * GPU milliseconds per stage of the last submit (summed over every run of a stage), when it was
   * timed; null otherwise. Waits for the submission to finish.
   */
  async readStageTimes(): Promise<Map<string, number> | null> {
    const t = this.timed;
    if (!t) return null;
    this.timed = null;
    await t.readback.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(t.readback.getMappedRange().slice(0));
    t.readback.unmap();
    t.release();
    const out = new Map<string, number>();
    t.stages.forEach((name, i) => out.set(name, (out.get(name) ?? 0) + Number(ns[2 * i + 1] - ns[2 * i]) / 1e6));
    return out;
  }

  /**
   * Encode and submit everything queued. Validation errors of earlier work surface here or at
   * the next read as GpuValidationError.
   */
  submit(): void {
    const device = this.rt.device;
    this.rt.throwIfErrors();
    this.assignTensors();
    const arena = this.writeUniforms(this.uniformBytes > 0 ? this.rt.uniforms(this.uniformBytes) : null);
    const enc = device.createCommandEncoder({ label: this.label });
    const steps = this.encodable(arena, true);
    if (this.rt.timing && this.rt.canTime) this.encodeTimed(enc, steps);
    else {
      const pass = enc.beginComputePass({ label: this.label });
      for (const d of steps) d(pass);
      pass.end();
    }
    device.queue.submit([enc.finish()]);
    this.clear();
  }

  /** One compute pass per run of dispatches of the same stage, each with begin/end timestamps. */
  private encodeTimed(enc: GPUCommandEncoder, steps: ((pass: GPUComputePassEncoder) => void)[]): void {
    const device = this.rt.device;
    const runs: { stage: string; from: number; to: number }[] = [];
    const live = this.pending.filter((p) => p.grid[0] !== 0); // encodable() skipped the empty ones too
    live.forEach((p, i) => {
      const last = runs[runs.length - 1];
      if (last && last.stage === p.stage) last.to = i + 1;
      else runs.push({ stage: p.stage, from: i, to: i + 1 });
    });
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * runs.length });
    runs.forEach((r, i) => {
      const pass = enc.beginComputePass({
        label: `${this.label}:${r.stage}`,
        timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      for (let k = r.from; k < r.to; k++) steps[k](pass);
      pass.end();
    });
    const bytes = 16 * runs.length;
    const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.resolveQuerySet(querySet, 0, 2 * runs.length, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
    this.timed = {
      stages: runs.map((r) => r.stage || '(unnamed)'), readback,
      release: () => { readback.destroy(); resolved.destroy(); querySet.destroy(); },
    };
  }

  /**
   * Turn everything queued into a program that can be replayed into any compute pass, e.g. once per
   * MD step inside the engine's own pass: its parameters go into a uniform buffer of its own (not the
   * shared arena, which later recorders overwrite), and its bind groups are made once, here, and belong to
   * the program (not the runtime's cache, which would keep those of every re-recorded program alive).
   */
  freeze(): RecordedProgram {
    this.rt.throwIfErrors();
    this.assignTensors();
    const own = this.uniformBytes > 0
      ? this.rt.device.createBuffer({ label: `${this.label}.uniforms`, size: Math.ceil(this.uniformBytes / 16) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
      : null;
    const steps = this.encodable(this.writeUniforms(own), false);
    this.clear();
    return {
      dispatches: steps.length,
      encode: (pass) => { for (const d of steps) d(pass); },
      destroy: () => own?.destroy(),
    };
  }

  private clear(): void {
    this.pending.length = 0;
    this.uniformData.length = 0;
    this.uniformBytes = 0;
  }

  private writeUniforms(arena: GPUBuffer | null): GPUBuffer | null {
    let u = 0;
    for (const p of this.pending) {
      if (p.uniformSize > 0 && arena) this.rt.device.queue.writeBuffer(arena, p.uniformOffset, this.uniformData[u++]);
    }
    return arena;
  }

  /** One closure per non-empty dispatch: set pipeline, bind group (from the runtime's cache or its own), dispatch. */
  private encodable(arena: GPUBuffer | null, cached: boolean): ((pass: GPUComputePassEncoder) => void)[] {
    const out: ((pass: GPUComputePassEncoder) => void)[] = [];
    for (const p of this.pending) {
      if (p.grid[0] === 0) continue;
      const entries: GPUBindGroupEntry[] = [];
      for (const [name, binding] of p.kernel.bindings) {
        if (name === 'params') {
          entries.push({ binding, resource: { buffer: arena!, offset: p.uniformOffset, size: p.uniformSize } });
        } else {
          const b = p.bindings[name];
          if (b instanceof Tensor) {
            if (!b.buffer) throw new Error(`${p.kernel.label}: tensor "${b.label}" has no buffer`);
            entries.push({ binding, resource: { buffer: b.buffer, size: b.bytes } });
          } else if (b instanceof TensorSlice) {
            if (!b.tensor.buffer) throw new Error(`${p.kernel.label}: tensor "${b.tensor.label}" has no buffer`);
            entries.push({ binding, resource: { buffer: b.tensor.buffer, offset: b.offset, size: b.bytes } });
          } else entries.push({ binding, resource: 'buffer' in b ? b : { buffer: b } });
        }
      }
      const group = cached ? this.rt.bindGroup(p.kernel, entries)
        : this.rt.device.createBindGroup({ label: p.kernel.label, layout: p.kernel.pipeline.getBindGroupLayout(0), entries });
      const { pipeline } = p.kernel, [x, y] = p.grid;
      out.push((pass) => { pass.setPipeline(pipeline); pass.setBindGroup(0, group); pass.dispatchWorkgroups(x, y); });
    }
    return out;
  }
}

/** A frozen sequence of dispatches (Recorder.freeze) that replays into any compute pass. */
export interface RecordedProgram {
  readonly dispatches: number;
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/** Bytes a binding covers, its byte offset, and what it is (for errors). */
function bindingExtent(b: Bound): { bytes: number; offset: number; what: string } {
  if (b instanceof Tensor) return { bytes: b.bytes, offset: 0, what: `tensor "${b.label}", ${b.rows} × ${b.cols}` };
  if (b instanceof TensorSlice) return { bytes: b.bytes, offset: b.offset, what: `rows of tensor "${b.label}", ${b.rows} × ${b.tensor.cols}` };
  if ('buffer' in b) {
    const offset = b.offset ?? 0;
    return { bytes: b.size ?? b.buffer.size - offset, offset, what: `range of buffer "${b.buffer.label}"` };
  }
  const buf = b as GPUBuffer;
  return { bytes: buf.size, offset: 0, what: `buffer "${buf.label}"` };
}

export function foldGrid(workgroups: number, maxPerDim: number): [number, number] {
  if (workgroups <= maxPerDim) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDim);
  if (y > maxPerDim) throw new DeviceLimitError('maxComputeWorkgroupsPerDimension', Math.ceil(Math.sqrt(workgroups)), maxPerDim, 'one dispatch');
  return [maxPerDim, y];
}

function errorKind(err: GPUError): GpuValidationError['kind'] {
  const n = err.constructor?.name ?? '';
  if (n.includes('OutOfMemory')) return 'out-of-memory';
  if (n.includes('Internal')) return 'internal';
  return 'validation';
}
