// Acquire a WebGPU adapter + device in the browser (navigator.gpu) or in Node (npm `webgpu`,
// Dawn), with exactly the limits a model needs, and surface failures as typed errors.
import { DeviceLimitError, DeviceLostError, GpuValidationError, WebGPUUnavailableError } from './errors';

/** Limits the runtime may ask for; values are minimums with the purpose that needs them. */
export type LimitName =
  | 'maxStorageBufferBindingSize'
  | 'maxBufferSize'
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupSizeY'
  | 'maxComputeWorkgroupsPerDimension';

export interface LimitRequest {
  limit: LimitName;
  min: number;
  /** Human words for the error message: which model / kernel / system size needs it. */
  purpose: string;
}

/** What every kernel in src/gpu/ops assumes (bindings per kernel, workgroup shapes, tile memory). */
export const RUNTIME_LIMITS: LimitRequest[] = [
  { limit: 'maxStorageBuffersPerShaderStage', min: 8, purpose: 'the model kernels (8 storage buffers per kernel)' },
  { limit: 'maxComputeInvocationsPerWorkgroup', min: 256, purpose: 'the 16×16 matmul tiles' },
  { limit: 'maxComputeWorkgroupSizeX', min: 256, purpose: 'row reductions' },
  { limit: 'maxComputeWorkgroupStorageSize', min: 16384, purpose: 'the tiled attention and matmul kernels' },
];

export interface AcquireOptions {
  /** Extra minimums on top of RUNTIME_LIMITS (e.g. binding size for a system size). */
  limits?: LimitRequest[];
  powerPreference?: GPUPowerPreference;
  /** Node only: Dawn toggles / adapter selection strings passed to `create()`. */
  dawnOptions?: string[];
}

export interface GpuContext {
  /**
   * The GPU instance the adapter came from. Held on purpose: in Dawn-for-Node, a collected
   * instance tears down the device under running work (random aborts / segfaults).
   */
  gpu: GPU;
  device: GPUDevice;
  adapterDescription: string;
  /** Resolves (never rejects) when the device is lost, with a typed error. */
  lost: Promise<DeviceLostError>;
  /** Uncaptured errors seen so far (validation bugs outside an explicit error scope). */
  uncaptured: GpuValidationError[];
  /** Destroy on purpose: the `lost` error then carries `intentional = true`. */
  destroy(): void;
}

async function getGpu(dawnOptions: string[]): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    throw new WebGPUUnavailableError(
      'This browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome/Edge, or Firefox/Safari with WebGPU enabled.',
    );
  }
  // Hidden from the browser bundle: the Node package is a native addon.
  const name = 'webgpu';
  let mod: { create: (opts: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new WebGPUUnavailableError(`Cannot load the npm package "webgpu" (Dawn for Node): ${String(e)}`);
  }
  // Dawn's constants (GPUBufferUsage, …) must be global for code written for the browser.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // One Dawn instance per process and option set, kept for the process lifetime: instances
  // created per call and collected later crash the process at random (seen in repeated tests).
  const key = dawnOptions.join('\n');
  let gpu = nodeInstances.get(key);
  if (!gpu) {
    gpu = mod.create(dawnOptions);
    nodeInstances.set(key, gpu);
  }
  return gpu;
}

const nodeInstances = new Map<string, GPU>();

function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
}

/** Check every request against the adapter; throws DeviceLimitError naming the first limit that is too small. */
export function checkLimits(adapterLimits: GPUSupportedLimits, requests: LimitRequest[]): Record<string, number> {
  const required: Record<string, number> = {};
  for (const r of requests) {
    const available = adapterLimits[r.limit] as number;
    if (available < r.min) throw new DeviceLimitError(r.limit, r.min, available, r.purpose);
    required[r.limit] = Math.max(required[r.limit] ?? 0, r.min);
  }
  return required;
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = await getGpu(options.dawnOptions ?? []);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new WebGPUUnavailableError(
      'requestAdapter() returned null: no GPU driver that WebGPU accepts. In Node on a machine without a GPU set ' +
        'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader).',
    );
  }
  const required = checkLimits(adapter.limits, [...RUNTIME_LIMITS, ...(options.limits ?? [])]);
  // Large bindings are the usual bottleneck for big systems: take all the adapter offers.
  required.maxStorageBufferBindingSize = adapter.limits.maxStorageBufferBindingSize;
  // Browsers grant 8 storage buffers per stage unless asked; the cell-list kernel binds 9, so take
  // what the adapter offers (RUNTIME_LIMITS above still refuses adapters with fewer than 8).
  required.maxStorageBuffersPerShaderStage = adapter.limits.maxStorageBuffersPerShaderStage;
  required.maxBufferSize = adapter.limits.maxBufferSize;
  let device: GPUDevice;
  try {
    // Per-stage GPU timings (benchmarks) where the adapter offers timestamps; nothing else depends on it.
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    device = await adapter.requestDevice({ requiredLimits: required, requiredFeatures });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice() failed: ${String(e)}`);
  }
  let intentional = false;
  const uncaptured: GpuValidationError[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    uncaptured.push(new GpuValidationError(errorKind(err), 'uncaptured', err.message));
  });
  const lost = device.lost.then(
    (info) => new DeviceLostError(info.reason ?? 'unknown', intentional || info.reason === 'destroyed', info.message),
  );
  return {
    gpu,
    device,
    adapterDescription: describeAdapter(adapter),
    lost,
    uncaptured,
    destroy() {
      intentional = true;
      device.destroy();
    },
  };
}

function errorKind(err: GPUError): GpuValidationError['kind'] {
  const n = err.constructor?.name ?? '';
  if (n.includes('OutOfMemory')) return 'out-of-memory';
  if (n.includes('Internal')) return 'internal';
  return 'validation';
}

/**
 * Run `fn` inside validation + out-of-memory error scopes (for one-off checks such as a pipeline
 * build or an allocation) and throw a GpuValidationError naming `context`
 * if either caught something.
 */
export async function withErrorScope<T>(device: GPUDevice, context: string, fn: () => T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation) throw new GpuValidationError('validation', context, validation.message);
    if (oom) throw new GpuValidationError('out-of-memory', context, oom.message);
  }
  return result;
}
