// The step program's working memory: kernels bind typed handles (Tensor), not named buffers, and the
// buffers behind the handles are chosen only when the recording ends, by liveness over the recorded
// dispatches. A tensor lives from the first dispatch that binds it to the last; tensors whose lives do not
// overlap share one buffer. Dispatches in one compute pass see each other's writes in order, so a buffer
// can be handed to the next tensor right after its last reader. What a backward pass keeps alive is
// therefore exactly what it reads: a forward intermediate nobody reads later dies at its last use.
//
// The buffers (workspace slots) are the runtime's pooled buffers, so a recording of the same program again
// (an energy call beside a frozen MD program) gets the same slots at the same sizes.
import type { GpuRuntime } from './runtime';

/** A float32 rows × cols array in a recording's workspace. */
export class Tensor {
  /** The buffer behind the handle, set when the recording that binds it is submitted or frozen. */
  buffer: GPUBuffer | null = null;

  constructor(
    /** What it holds, for errors and GPU debuggers. */
    readonly label: string,
    readonly rows: number,
    readonly cols: number,
    /** Kept for the whole program and never shared: results read after it has run. */
    readonly persistent: boolean,
  ) {}

  get words(): number {
    return this.rows * this.cols;
  }

  get bytes(): number {
    return 4 * this.words;
  }

  /**
   * Rows [start, start + count) as a binding of their own (a buffer range at a byte offset): lets a kernel
   * run over a chunk of the rows when the whole array is more than one binding may cover.
   */
  slice(start: number, count: number): TensorSlice {
    if (!(start >= 0 && count > 0 && start + count <= this.rows)) throw new RangeError(`${this.label}: rows ${start}..${start + count} of ${this.rows}`);
    return start === 0 && count === this.rows ? new TensorSlice(this, 0, this.rows) : new TensorSlice(this, start, count);
  }
}

/** Rows of a workspace tensor bound as a range of its buffer (Tensor.slice). */
export class TensorSlice {
  constructor(readonly tensor: Tensor, readonly start: number, readonly rows: number) {}

  get label(): string {
    return `${this.tensor.label}[${this.start}..${this.start + this.rows})`;
  }

  get offset(): number {
    return 4 * this.start * this.tensor.cols;
  }

  get bytes(): number {
    return 4 * this.rows * this.tensor.cols;
  }
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

/** One dispatch as the liveness pass sees it: the tensors it binds and which of them it may write. */
export interface TensorUse {
  kernel: string;
  tensors: { tensor: Tensor; writes: boolean | null }[];
}

/** A slot's size and the tensors it holds in turn (for tests and the allocation report). */
export interface WorkspaceSlot {
  bytes: number;
  tensors: Tensor[];
}

export class Workspace {
  private readonly tensors: Tensor[] = [];

  constructor(private readonly rt: GpuRuntime, private readonly scope = 'workspace') {}

  /** A rows × cols float32 tensor whose buffer is shared with tensors that are dead while it lives. */
  tensor(label: string, rows: number, cols: number): Tensor {
    const t = new Tensor(label, rows, cols, false);
    this.tensors.push(t);
    return t;
  }

  /** A tensor with a buffer of its own for the whole program (results the host or a later program reads). */
  persistent(label: string, rows: number, cols: number): Tensor {
    const t = new Tensor(label, rows, cols, true);
    this.tensors.push(t);
    return t;
  }

  /**
   * Give every tensor bound in `uses` (dispatches in program order) a buffer. Throws when a tensor is first
   * bound where the kernel only reads it: it would read whatever the slot's previous tenant left.
   */
  assign(uses: readonly TensorUse[]): WorkspaceSlot[] {
    const first = new Map<Tensor, number>(), last = new Map<Tensor, number>();
    uses.forEach((u, i) => {
      for (const { tensor, writes } of u.tensors) {
        if (!first.has(tensor)) {
          if (writes === false) throw new Error(`${u.kernel} reads "${tensor.label}" before any dispatch writes it`);
          first.set(tensor, i);
        }
        last.set(tensor, i);
      }
    });
    // Greedy by size: the largest tensors pick first, each into the smallest slot none of whose tenants
    // is alive at the same time (a slot is as large as its first, largest, tenant), else a new slot.
    const slots: (WorkspaceSlot & { lives: [number, number][] })[] = [];
    const order = [...first.keys()].sort((x, y) => y.bytes - x.bytes || first.get(x)! - first.get(y)!);
    for (const t of order) {
      const life: [number, number] = [first.get(t)!, last.get(t)!];
      let pick = -1;
      if (!t.persistent) {
        slots.forEach((slot, i) => {
          if (slot.tensors[0].persistent || slot.bytes < t.bytes) return;
          if (slot.lives.some(([f, l]) => f <= life[1] && life[0] <= l)) return;
          if (pick < 0 || slot.bytes < slots[pick].bytes) pick = i;
        });
      }
      if (pick < 0) {
        slots.push({ bytes: t.bytes, tensors: [], lives: [] });
        pick = slots.length - 1;
      }
      slots[pick].tensors.push(t);
      slots[pick].lives.push(life);
    }
    slots.forEach((slot, i) => {
      const persistent = slot.tensors[0].persistent;
      const name = persistent ? `${this.scope}.${slot.tensors[0].label}` : `${this.scope}.slot${i}`;
      const buffer = this.rt.buffer(name, slot.bytes);
      for (const t of slot.tensors) t.buffer = buffer;
    });
    return slots.map(({ bytes, tensors }) => ({ bytes, tensors }));
  }
}
