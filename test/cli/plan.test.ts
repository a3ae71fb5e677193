// `npm run plan` against the real thing: for two small tilings of a periodic water box, the JSON's slot
// budget, GPU bytes and dispatches per NVE step equal what the WebGPU MD engine with the resident AllScAIP
// provider measures on a real device (SwiftShader in CI): K from the GPU graph's read-back, bytes of every
// buffer it creates and keeps, dispatches of its frozen step program plus the NVE integrator's three.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BINDING_LIMIT, parsePlanArgs, runPlan, tileRepeats } from '../../src/cli/planCommand';
import { planMdStep } from '../../src/gpu/mdStepPlan';
import { readStructureFile } from '../../src/io/readNode';
import { AllScaipWebGpu } from '../../src/gpu/forceProvider';
import type { GpuContext } from '../../src/gpu/device';
import { writeExtXyz } from '../../src/io/xyz';
import type { Structure } from '../../src/io/structure';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { systemFromStructure } from '../../src/md/setup';
import { DEFAULT_SETTINGS } from '../../src/md/types';
import { loadModelFromPath } from '../../src/model/loadNode';
import { supercell } from '../../src/ui/system/supercell';
import { mdDevice } from '../md/helpers';

const MODEL = 'test/fixtures/normalized-refs';
let ctx: GpuContext | undefined;
beforeAll(async () => { ctx = await mdDevice(); });
afterAll(() => ctx?.destroy());

function waterBox(): Structure {
  const c = JSON.parse(readFileSync(`${MODEL}/case.json`, 'utf8')).inputs;
  return {
    numbers: Int32Array.from(c.numbers as number[]), positions: Float64Array.from((c.positions as number[][]).flat()),
    cell: Float64Array.from((c.cell as number[][]).flat()), pbc: [true, true, true], charge: c.charge, spin: c.spin,
  };
}

/** The real device, with the live bytes of the buffers created through it (MAP_READ staging excluded, as in the plan). */
function countingDevice(device: GPUDevice): { device: GPUDevice; liveBytes: () => number } {
  const live = new Map<GPUBuffer, number>();
  const proxy = new Proxy(device, {
    get(t, p) {
      if (p === 'createBuffer') {
        return (d: GPUBufferDescriptor) => {
          const b = t.createBuffer(d);
          if (!(d.usage & GPUBufferUsage.MAP_READ)) live.set(b, b.size);
          const destroy = b.destroy.bind(b);
          Object.defineProperty(b, 'destroy', { value: () => { live.delete(b); destroy(); } });
          return b;
        };
      }
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return { device: proxy, liveBytes: () => [...live.values()].reduce((a, b) => a + b, 0) };
}

describe('npm run plan', () => {
  it('tiles to the nearest near-cubic supercell', () => {
    expect(tileRepeats(192, 1000)).toEqual([2, 2, 1]);
    expect(tileRepeats(192, 5000)).toEqual([3, 3, 3]);
    expect(tileRepeats(24, 48)).toEqual([2, 1, 1]);
    expect(tileRepeats(192, 10)).toEqual([1, 1, 1]);
    expect(() => parsePlanArgs(['--model', 'x', '--atoms', '10,abc'])).toThrow(/whole numbers/);
    expect(() => parsePlanArgs(['--atoms', '10'])).toThrow(/--model is required/);
  });

  it('matches the real engine on a device: K, bytes and dispatches per NVE step (24 and 48 atoms)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    const box = waterBox();
    writeFileSync(join(dir, 'box.xyz'), writeExtXyz([box]));
    const lines: string[] = [];
    const code = await runPlan(['--model', MODEL, '--system', join(dir, 'box.xyz'), '--atoms', '24,48', '--json', join(dir, 'plan.json')],
      { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    expect(code, lines.join('\n')).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as { sizes: { atoms: number; slots: number; bytes: number; bytes_per_atom: number; largest_binding: { name: string; bytes: number }; dispatches_per_md_step: number }[] };
    expect(plan.sizes.map((s) => s.atoms)).toEqual([24, 48]);

    const model = await loadModelFromPath(MODEL);
    const { device, liveBytes } = countingDevice(ctx!.device);
    for (const [i, reps] of [[1, 1, 1], [2, 1, 1]].entries()) {
      const s = supercell(box, reps[0], reps[1], reps[2]);
      const provider = new AllScaipWebGpu(model, s.charge, s.spin);
      const engine = await GpuMdEngine.create(device, systemFromStructure(s, { temperature: DEFAULT_SETTINGS.temperature, seed: DEFAULT_SETTINGS.seed }),
        provider, { ...DEFAULT_SETTINGS, ensemble: 'nve' });
      await engine.run(1, { sampleEvery: 1, onSample: () => undefined });
      const want = plan.sizes[i];
      expect(want.slots).toBe(provider.slots);
      expect(want.dispatches_per_md_step).toBe(provider.programDispatches + 3); // kick_drift, kick, advance
      expect(want.bytes).toBe(liveBytes());
      expect(want.bytes_per_atom).toBe(Math.round(want.bytes / want.atoms));
      expect(want.largest_binding.bytes).toBeGreaterThan(0);
      engine.destroy(); // frees its provider too: nothing may stay on the device
      expect(liveBytes()).toBe(0);
    }
  }, 600_000);

  it('issue 13 at 20,736 atoms (6×6×3 water boxes, the MD slot budget): no binding over 128 MiB, < 80 kB per atom, ≤ 110 dispatches per NVE step', async () => {
    const model = await loadModelFromPath('public/models/water-spcfw-smooth');
    const s = supercell(readStructureFile('public/systems/water64_box.xyz')[0], 6, 6, 3);
    // 17: the fullest row of this system's float64 graph (graphMaxEdges; given here to skip a minute of CPU graph)
    const p = await planMdStep(model, s, { bindingLimit: DEFAULT_BINDING_LIMIT, maxEdges: 17 });
    expect(p.atoms).toBe(20736);
    expect(p.slots).toBe(21);
    // a fused q‖k‖v would be E × 3H = 318.9 MiB; q, k and v are E × H bindings of their own (106.3 MiB), and the
    // edge FFN's E × 2H hidden layer runs as two E × H halves
    expect(p.largest_binding.bytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(p.bytes_per_atom).toBeLessThan(80_000);
    expect(p.dispatches_per_md_step).toBeLessThanOrEqual(110);
  }, 600_000);
});
