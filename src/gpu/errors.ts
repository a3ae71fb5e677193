// Typed failures of the WebGPU runtime, so callers (UI, CLI, MD loop) can tell a missing
// adapter from a too-small device, a lost device, or a bug caught by validation.

/** No WebGPU implementation, or no adapter the implementation accepts. */
export class WebGPUUnavailableError extends Error {
  override name = 'WebGPUUnavailableError';
}

/** The adapter cannot grant a limit the model or the system size needs. */
export class DeviceLimitError extends Error {
  override name = 'DeviceLimitError';
  constructor(
    readonly limit: string,
    readonly required: number,
    readonly available: number,
    readonly purpose: string,
  ) {
    super(
      `WebGPU limit ${limit} is too small: ${purpose} needs ${required}, ` +
        `this adapter allows at most ${available}`,
    );
  }
}

/** `device.lost` resolved. `intentional` is true when we destroyed the device ourselves. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    readonly intentional: boolean,
    detail: string,
  ) {
    super(`WebGPU device lost (${reason}${intentional ? ', destroyed on purpose' : ''}): ${detail}`);
  }
}

/** A validation / out-of-memory / internal error reported through an error scope or `uncapturederror`. */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    readonly context: string,
    detail: string,
  ) {
    super(`WebGPU ${kind} error in ${context}: ${detail}`);
  }
}
