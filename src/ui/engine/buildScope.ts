// One engine build in the MD worker, abandoned when a newer request (another system, other forces) makes it
// obsolete. Building the model's engine compiles dozens of kernels and runs a first step (minutes on a CPU WebGPU
// driver); a page that picks other forces or a trajectory meanwhile must not wait for it.
//
// The engine and force-provider code has no cancellation of its own, so builds see the worker's device through one
// view per device (one, so that the kernels compiled per device are found again by the next build). The view knows
// the build in progress: a promise it hands out during a build (a buffer mapping, work done, an error scope) never
// settles once that build is abandoned, so the abandoned code never runs again after its current await; a device
// call made while the abandoned build is still the last one throws; the buffers the build made are destroyed.
// The worker races each await of the build against the abandonment and moves on at once.

/** The build was overtaken by a newer engine request; the worker drops it without telling the page. */
export class EngineBuildSupersededError extends Error {
  constructor(readonly what: string) {
    super(`${what} was superseded by a newer engine request`);
    this.name = 'EngineBuildSupersededError';
  }
}

/** Device, queue and buffer methods whose promises are held back from an abandoned build. */
const ASYNC_METHODS = new Set<PropertyKey>(['mapAsync', 'onSubmittedWorkDone', 'popErrorScope', 'createComputePipelineAsync', 'createRenderPipelineAsync']);

class DeviceView {
  /** The build in progress on this device (null: none, or the last one was adopted). */
  owner: BuildScope | null = null;
  readonly device: GPUDevice;

  constructor(real: GPUDevice) {
    const queue = this.guard(real.queue);
    this.device = this.guard(real, (name, result) => {
      if (name !== 'createBuffer') return;
      const b = result as GPUBuffer;
      this.owner?.track(b);
      // Mappings are how a build waits on the GPU: held back like the device's own promises.
      const mapAsync = b.mapAsync;
      b.mapAsync = (...args: Parameters<GPUBuffer['mapAsync']>) => this.hold(mapAsync.apply(b, args));
    }, queue);
  }

  /** `p`, or a promise that never settles if the build that asked for it is abandoned before `p` settles. */
  private hold<T>(p: Promise<T>): Promise<T> {
    const asker = this.owner;
    if (!asker) return p;
    return new Promise<T>((resolve, reject) => {
      p.then(
        (v) => { if (!asker.superseded) resolve(v); },
        (e: unknown) => { if (!asker.superseded) reject(e); },
      );
    });
  }

  /** Methods called on the real object (WebGPU checks `this`), refused while the last build is abandoned. */
  private guard<T extends object>(target: T, after?: (name: PropertyKey, result: unknown) => void, queue?: GPUQueue): T {
    return new Proxy(target, {
      get: (t, name) => {
        if (name === 'queue' && queue) return queue;
        const v = Reflect.get(t, name, t) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          this.owner?.check();
          const r = (v as (...a: unknown[]) => unknown).apply(t, args);
          after?.(name, r);
          return ASYNC_METHODS.has(name) ? this.hold(r as Promise<unknown>) : r;
        };
      },
      set: (t, name, value) => Reflect.set(t, name, value, t),
    });
  }
}

const views = new WeakMap<GPUDevice, DeviceView>();

export class BuildScope {
  /** The worker's device as builds see it (null: the CPU engine). */
  readonly device: GPUDevice | null;
  private readonly view: DeviceView | null;
  private abandoned = false;
  private adopted = false;
  private buffers: GPUBuffer[] = [];
  private wake: (() => void)[] = [];
  private late: (() => void)[] = [];

  constructor(device: GPUDevice | null, readonly what: string) {
    let view = device ? views.get(device) : undefined;
    if (device && !view) {
      view = new DeviceView(device);
      views.set(device, view);
    }
    this.view = view ?? null;
    if (this.view) this.view.owner = this;
    this.device = this.view?.device ?? null;
  }

  get superseded(): boolean {
    return this.abandoned;
  }

  /** Throws EngineBuildSupersededError once abandoned. */
  check(): void {
    if (this.abandoned) throw new EngineBuildSupersededError(this.what);
  }

  /** A buffer the build made: destroyed if it is abandoned. */
  track(b: GPUBuffer): void {
    if (!this.adopted) this.buffers.push(b);
  }

  /**
   * Await `p` unless the build is abandoned first (then throw at once). A result that comes after the abandonment
   * is handed to `dispose` (an engine built for nothing is destroyed); a late failure is the abandonment's echo.
   */
  async step<T>(p: Promise<T>, dispose?: (late: T) => void): Promise<T> {
    this.check();
    let stop!: () => void;
    const abandoned = new Promise<'abandoned'>((resolve) => {
      stop = () => resolve('abandoned');
      this.wake.push(stop);
    });
    const settled = p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([settled, abandoned]);
    this.wake = this.wake.filter((f) => f !== stop);
    if (first === 'abandoned') {
      void settled.then((r) => { if ('value' in r && dispose) dispose(r.value); });
      throw new EngineBuildSupersededError(this.what);
    }
    if ('error' in first) throw first.error;
    // Finished, but a newer request came while it ran: it is not this build's to use.
    if (this.abandoned) {
      dispose?.(first.value);
      throw new EngineBuildSupersededError(this.what);
    }
    return first.value;
  }

  /** Let messages already queued for the worker in (a newer request abandons the build before it starts). */
  async yieldToEvents(): Promise<void> {
    await this.step(new Promise<void>((resolve) => setTimeout(resolve, 0)));
  }

  /** Called on the newer request: the awaits of this build end now, its device calls throw, its buffers are freed. */
  abandon(): void {
    if (this.abandoned || this.adopted) return;
    this.abandoned = true;
    for (const b of this.buffers) b.destroy();
    this.buffers = [];
    for (const f of this.wake) f();
    this.wake = [];
    for (const f of this.late) f();
    this.late = [];
  }

  /** Also run `f` on abandonment (the engine the build made, before its first sample). */
  onAbandon(f: () => void): void {
    if (this.abandoned) f();
    else this.late.push(f);
  }

  /** The build succeeded: its engine is the worker's now; nothing is tracked or held back any more. */
  adopt(): void {
    this.check();
    this.adopted = true;
    this.buffers = [];
    this.late = [];
    if (this.view?.owner === this) this.view.owner = null;
  }
}
