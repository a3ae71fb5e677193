// Browser side of test/e2e/gpuModel.e2e.ts: window.__gpuModelCase(<fixture>) runs one fixture and returns its result.
// The cases share one device and runtime, so kernels two models have in common are compiled once (as when the
// workbench switches models); on SwiftShader pipeline compilation is most of a case's time.
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { GpuRuntime } from '../../src/gpu/runtime';
import { GpuModel } from '../../src/gpu/model';
import { loadModelFromUrl } from '../../src/model/load';

export type GpuModelResult = { energy: number; forces: number[]; stress: number[] | null; adapter: string } | { error: string };

declare global {
  interface Window { __gpuModelCase?: (name: string) => Promise<GpuModelResult> }
}

let shared: Promise<{ ctx: GpuContext; rt: GpuRuntime }> | undefined;

async function run(name: string): Promise<GpuModelResult> {
  shared ??= acquireDevice().then((ctx) => ({ ctx, rt: new GpuRuntime(ctx.device) }));
  const { ctx, rt } = await shared;
  const base = `/test/fixtures/${name}/`;
  const model = await loadModelFromUrl(base);
  const c = await (await fetch(`${base}case.json`)).json();
  const r = await new GpuModel(rt, model).compute({
    numbers: Int32Array.from(c.inputs.numbers), positions: Float64Array.from(c.inputs.positions.flat()),
    cell: c.inputs.cell ? Float64Array.from(c.inputs.cell.flat()) : null, pbc: c.inputs.pbc,
    charge: c.inputs.charge, spin: c.inputs.spin,
  });
  return { energy: r.energy, forces: Array.from(r.forces), stress: r.stress ? Array.from(r.stress) : null, adapter: ctx.adapterDescription };
}

window.__gpuModelCase = (name) => run(name).catch((e) => ({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
