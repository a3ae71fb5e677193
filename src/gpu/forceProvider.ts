// The WebGPU AllScAIP runtime as an MD force provider (src/md/forceProvider.ts) on the engine's own device.
//
// GPU-resident: at attach the provider reads the positions once, sizes the slot budget K from the graph's
// largest edge count plus a margin, and freezes the whole energy-and-forces pass (graph from the engine's positions →
// forward → backward → forces, energy and virial into the engine's buffers) into one program that is replayed
// inside the engine's compute pass every step: no read-back per step. The graph's health (most edges of any
// atom, steps whose graph overflowed K) rides along in the output buffer, which the engine reads with every
// sample; an overflow stops the run with a message (describeOutput).
//
// The cell lives in the graph's uniforms, so when the Monte Carlo barostat changes the box the engine calls
// syncBox: one 64-byte read of the box and, if it changed, the program is recorded again for the new cell
// (two small reads per barostat attempt, none on the other steps). evaluate() is the host round trip (read
// positions and box, compute, write), for callers that want one force call outside a replayed program.
import type { LoadedModel } from '../model/config';
import type { Structure } from '../io/structure';
import {
  BOX_FLOATS, createHostStaging, readHostState, writeHostResult, type GpuForceProvider, type GpuForceTarget,
} from '../md/forceProvider';
import { GpuRuntime, type RecordedProgram } from './runtime';
import { GpuModel } from './model';
import { recordMdOutput } from './ops/mdOutput';
import { safeSlotBudget } from './ops/graph';

export interface AllScaipWebGpuOptions {
  /** Compute the virial (pressure) on periodic systems; default true. */
  virial?: boolean;
  /** Slots added to the measured largest edge count when sizing K for a resident run; default 4. */
  slotMargin?: number;
  /** Fix K instead of sizing it (tests use it to provoke an overflow). */
  slots?: number;
  /**
   * Planning without a GPU (src/gpu/mdStepPlan.ts): the fullest graph row as the float64 graph counts it, used
   * in place of the read-back (a stand-in device reads zeros); the sizing graph build is still recorded.
   */
  plannedMaxEdges?: number;
}

/** Slots added to the measured largest edge count when a resident MD run sizes K. */
export const MD_SLOT_MARGIN = 4;

/** The slot budget an MD run takes for a graph whose fullest row has `maxEdges` edges (at most the never-overflowing budget). */
export function mdSlotBudget(arch: LoadedModel['config']['architecture'], maxEdges: number, margin = MD_SLOT_MARGIN): number {
  return Math.min(safeSlotBudget(arch), maxEdges + margin);
}

export class AllScaipWebGpu implements GpuForceProvider {
  readonly kind = 'gpu';
  readonly resident = true;
  readonly name: string;
  /** The slot budget K of the resident program (0 before attach or when not resident). */
  slots = 0;
  private target: GpuForceTarget | null = null;
  private rt: GpuRuntime | null = null;
  private gpuModel: GpuModel | null = null;
  private staging: GPUBuffer | null = null;
  private program: RecordedProgram | null = null;
  /** The cell the program was recorded for (null: not periodic). */
  private cell: Float64Array | null = null;
  private boxStaging: GPUBuffer | null = null;
  /** N×3 positions of the attach-time graph that sizes K (the step program's graph reads the engine's N×4). */
  private positions: GPUBuffer | null = null;
  /** The graph health words of the run (recordMdOutput), kept across re-recordings. */
  private health: GPUBuffer | null = null;

  constructor(readonly model: LoadedModel, readonly charge = 0, readonly spin = 1, private readonly options: AllScaipWebGpuOptions = {}) {
    this.name = `AllScAIP ${model.config.name} (WebGPU float32)`;
  }

  async attach(target: GpuForceTarget): Promise<void> {
    this.target = target;
    this.rt = new GpuRuntime(target.device);
    this.gpuModel = new GpuModel(this.rt, this.model);
    this.staging = createHostStaging(target, 'allscaip.staging');
    this.boxStaging = target.device.createBuffer({ label: 'allscaip.box', size: BOX_FLOATS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const { positions: hostPositions, cell, periodic } = await readHostState(target, this.staging);
    this.cell = periodic ? cell : null;
    const arch = this.model.config.architecture;
    const positions = this.rt.buffer('md.positions', 12 * target.numAtoms);
    this.positions = positions;
    this.health = this.rt.buffer('md.health', 16);
    if (this.options.slots !== undefined) this.slots = this.options.slots;
    else {
      this.rt.device.queue.writeBuffer(positions, 0, Float32Array.from(hostPositions));
      const measured = await this.gpuModel.slotBudget(this.system(), positions);
      this.slots = mdSlotBudget(arch, this.options.plannedMaxEdges ?? measured, this.options.slotMargin);
    }
    this.recordProgram();
  }

  private system() {
    const t = this.target!;
    return { numbers: t.numbers, cell: this.cell, pbc: t.pbc, charge: this.charge, spin: this.spin };
  }

  /** Record the step program for the current cell (at attach, and after the barostat changed the box). */
  private recordProgram(): void {
    const rt = this.rt!, gm = this.gpuModel!, t = this.target!;
    const periodic = this.cell !== null;
    this.program?.destroy();
    const rec = rt.recorder('allscaip.md-step');
    // the graph reads the engine's N×vec4 positions itself (no copy pass)
    const r = gm.record(rec, this.system(), t.positions, this.slots, 4);
    const { normalization } = this.model.config;
    recordMdOutput(rt, rec, {
      numAtoms: t.numAtoms, slots: this.slots, energyScale: normalization.energy_scale,
      energyOffset: gm.energyOffset(t.numbers), virial: (this.options.virial ?? true) && periodic,
      energyRaw: r.energyRaw, gradPositions: r.gradPositions, strain: r.strain, graphStatus: r.graph.status,
      forces: t.forces, output: t.output, health: this.health!,
    });
    this.program = rec.freeze();
  }

  async syncBox(): Promise<void> {
    const t = this.target, staging = this.boxStaging;
    if (!t || !staging || !this.cell) return;
    const enc = t.device.createCommandEncoder({ label: 'allscaip.box-read' });
    enc.copyBufferToBuffer(t.box, 0, staging, 0, BOX_FLOATS * 4);
    t.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const box = new Float32Array(staging.getMappedRange().slice(0, 36));
    staging.unmap();
    if (box.every((v, i) => v === Math.fround(this.cell![i]))) return;
    this.cell = Float64Array.from(box);
    this.recordProgram();
  }

  /** Dispatches of the frozen step program (0 before attach). */
  get programDispatches(): number {
    return this.program?.dispatches ?? 0;
  }

  encodeInPass(pass: GPUComputePassEncoder): void {
    if (!this.program) throw new Error(`${this.name}: attach() was not called`);
    this.program.encode(pass);
  }

  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'allscaip.md-step' });
    this.encodeInPass(pass);
    pass.end();
  }

  /** The graph health words of a sample's output buffer, as a message when the slot budget overflowed. */
  describeOutput(out: Float32Array): string | null {
    if (!(out[12] > 0)) return null;
    return `${this.name}: the neighbour graph needed ${out[11]} slots for some atom but the slot budget K is ${out[13]} ` +
      `(sized when the run started), so edges were dropped on ${out[12]} step(s); the last good frame is kept: ` +
      `run again from it and K is sized anew`;
  }

  async evaluate(): Promise<void> {
    const t = this.target, staging = this.staging, gm = this.gpuModel;
    if (!t || !staging || !gm) throw new Error(`${this.name}: attach() was not called`);
    const { positions, cell, volume } = await readHostState(t, staging);
    const structure: Structure = { numbers: t.numbers, positions, cell, pbc: t.pbc, charge: this.charge, spin: this.spin };
    const periodic = cell !== null && t.pbc.some(Boolean);
    // the program's slot budget: the same buffer sizes, so the frozen program's buffers stay valid
    const r = await gm.compute(structure, { stress: (this.options.virial ?? true) && periodic, slots: this.slots });
    writeHostResult(t, { energy: r.energy, forces: r.forces, virial: r.stress && cell ? Float64Array.from(r.stress, (x) => -volume * x) : null });
  }

  destroy(): void {
    this.program?.destroy();
    this.staging?.destroy();
    this.boxStaging?.destroy();
    this.rt?.destroy();
  }
}
