// Browser side of test/e2e/gpuModel.e2e.ts: ?case=<fixture> → window.__gpuModelResult.
import { acquireDevice } from '../../src/gpu/device';
import { GpuRuntime } from '../../src/gpu/runtime';
import { GpuModel } from '../../src/gpu/model';
import { loadModelFromUrl } from '../../src/model/load';

declare global {
  interface Window { __gpuModelResult?: { energy: number; forces: number[]; stress: number[] | null; adapter: string } | { error: string } }
}

async function run(): Promise<void> {
  const name = new URLSearchParams(location.search).get('case');
  if (!name) throw new Error('no ?case= given');
  const base = `/test/fixtures/${name}/`;
  const model = await loadModelFromUrl(base);
  const c = await (await fetch(`${base}case.json`)).json();
  const ctx = await acquireDevice();
  const rt = new GpuRuntime(ctx.device);
  const r = await new GpuModel(rt, model).compute({
    numbers: Int32Array.from(c.inputs.numbers), positions: Float64Array.from(c.inputs.positions.flat()),
    cell: c.inputs.cell ? Float64Array.from(c.inputs.cell.flat()) : null, pbc: c.inputs.pbc,
    charge: c.inputs.charge, spin: c.inputs.spin,
  });
  window.__gpuModelResult = { energy: r.energy, forces: Array.from(r.forces), stress: r.stress ? Array.from(r.stress) : null, adapter: ctx.adapterDescription };
  rt.destroy();
  ctx.destroy();
}

run().catch((e) => { window.__gpuModelResult = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }; });
