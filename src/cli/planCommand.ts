// The `plan` command: GPU memory and dispatches of an NVE MD step for system sizes, without a GPU.
//   npm run plan -- --model DIR [--system FILE] [--atoms 1000,5000,20000] [--json out.json]
// Each size is the system tiled (a near-cubic supercell) to the atom count nearest the one asked for; the
// numbers come from the MD engine and model recording their real step program on a stand-in device
// (src/gpu/mdStepPlan.ts). Kept apart from plan.ts (which only runs it) so tests call runPlan in-process.

import { writeFile } from 'node:fs/promises';
import { StructureParseError } from '../io/errors';
import { readStructureFile } from '../io/readNode';
import type { Structure } from '../io/structure';
import { loadModelFromPath } from '../model/loadNode';
import { assertSystemSupported } from '../model/systemCheck';
import { planMdStep, type MdStepPlan } from '../gpu/mdStepPlan';
import { DeviceLimitError } from '../gpu/errors';
import { supercell } from '../ui/system/supercell';
import { UsageError } from './calcCommand';

export const PLAN_USAGE = `usage: npm run plan -- --model <dir or model.json> [options]

  --model <path>     model directory (with model.json) or a model.json file
  --system <file>    periodic structure to tile (default public/systems/water64_box.xyz)
  --atoms <list>     comma-separated atom counts (default 1000,5000,20000); each is the nearest
                     near-cubic supercell of the system
  --binding-limit <MiB>
                     maxStorageBufferBindingSize of the adapter to plan for (default 128, what some
                     drivers and lavapipe offer; 0: no limit): the program is recorded as on such an
                     adapter (E × H halves of the edge FFN's hidden layer, atom chunks where even a half
                     is more than one binding), and a size the runtime must refuse is reported with its
                     error
  --json <file>      also write {"binding_limit", "sizes": [{atoms, bytes, bytes_per_atom,
                     largest_binding: {name, bytes}, largest_buffer, over_binding_limit,
                     dispatches_per_md_step, dispatches_by_kernel, slots, refused}]} to this file
  -h, --help         show this help

No GPU is used: the WebGPU MD engine and the model record their NVE step program on a stand-in device
that keeps the buffers and dispatches asked of it, at the slot budget an MD run would choose (the fullest
row of the neighbour graph, from the float64 CPU graph, plus the run's margin). Bytes count every GPU buffer
the running engine holds: weights, activations and engine state.`;

export interface PlanArgs { model: string; system: string; atoms: number[]; json: string | null; bindingLimit: number | null }

export const DEFAULT_PLAN_SYSTEM = 'public/systems/water64_box.xyz';
const DEFAULT_ATOMS = [1000, 5000, 20000];
/** maxStorageBufferBindingSize of some drivers and of lavapipe (and WebGPU's default). */
export const DEFAULT_BINDING_LIMIT = 128 * 2 ** 20;
/** Largest size asked for: the CPU graph and the stand-in recording are linear in N, but not free. */
const MAX_PLAN_ATOMS = 2_000_000;

export function parsePlanArgs(argv: string[]): PlanArgs | null {
  const a: PlanArgs = { model: '', system: DEFAULT_PLAN_SYSTEM, atoms: DEFAULT_ATOMS, json: null, bindingLimit: DEFAULT_BINDING_LIMIT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (arg === '-h' || arg === '--help') return null;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (options start with --)`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!['model', 'system', 'atoms', 'json', 'binding-limit'].includes(name)) throw new UsageError(`unknown option "--${name}"`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (name === 'model') a.model = value;
    else if (name === 'system') a.system = value;
    else if (name === 'json') a.json = value;
    else if (name === 'binding-limit') {
      const mib = Number(value);
      if (!(mib >= 0 && Number.isFinite(mib))) throw new UsageError(`--binding-limit needs MiB (a number ≥ 0), got "${value}"`);
      a.bindingLimit = mib === 0 ? null : Math.floor(mib * 2 ** 20);
    }
    else {
      a.atoms = value.split(',').map((t) => {
        if (!/^\d+$/.test(t.trim())) throw new UsageError(`--atoms needs whole numbers separated by commas, got "${t}"`);
        const n = Number(t.trim());
        if (n < 1 || n > MAX_PLAN_ATOMS) throw new UsageError(`--atoms: ${n} is outside 1..${MAX_PLAN_ATOMS}`);
        return n;
      });
    }
  }
  if (!a.model) throw new UsageError('--model is required');
  return a;
}

/**
 * Supercell repeats (na, nb, nc) of an `n`-atom cell whose atom count is nearest `target`: near-cubic in
 * repeats (largest/smallest ≤ 2, or 1×1×1), ties to the smaller system.
 */
export function tileRepeats(n: number, target: number): [number, number, number] {
  let best: [number, number, number] = [1, 1, 1];
  let bestErr = Math.abs(n - target);
  const top = Math.ceil(Math.cbrt(target / n)) * 2 + 1;
  for (let a = 1; a <= top; a++) for (let b = a; b <= Math.min(2 * a, top); b++) for (let c = b; c <= Math.min(2 * a, top); c++) {
    const err = Math.abs(a * b * c * n - target);
    if (err < bestErr || (err === bestErr && a * b * c < best[0] * best[1] * best[2])) { best = [c, b, a]; bestErr = err; }
  }
  return best;
}

/** One size of the plan: the measured step, or the runtime's refusal (then only atoms and the message). */
export type PlannedSize =
  | (MdStepPlan & { over_binding_limit: boolean; refused: null })
  | { atoms: number; over_binding_limit: true; refused: string };

interface Io { log: (line: string) => void; error: (line: string) => void }
const defaultIo: Io = { log: (l) => console.log(l), error: (l) => console.error(l) };

const MIB = 2 ** 20;

export async function runPlan(argv: string[], io: Io = defaultIo): Promise<number> {
  let args: PlanArgs | null;
  try {
    args = parsePlanArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.error(`error: ${e.message}\n\n${PLAN_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args === null) {
    io.log(PLAN_USAGE);
    return 0;
  }
  try {
    const base = readStructureFile(args.system)[0];
    if (!base.cell || !base.pbc.every(Boolean)) {
      throw new StructureParseError(args.system, null, 'plan tiles the system into supercells, so it needs a cell periodic along a, b and c');
    }
    const model = await loadModelFromPath(args.model);
    const c = model.config;
    io.log(`model    ${c.name} ${c.version} (${args.model}): H ${c.architecture.hidden_size}, ${c.architecture.num_layers} layers, k ${c.architecture.knn_k}`);
    io.log(`system   ${args.system} (${base.numbers.length} atoms) tiled; NVE MD step on the WebGPU engine, recorded without a GPU`);
    const limit = args.bindingLimit;
    io.log(`binding  ${limit === null ? 'no limit' : `maxStorageBufferBindingSize ${(limit / MIB).toFixed(1)} MiB`}`);
    io.log('');
    io.log(`${'atoms'.padStart(8)} ${'tiling'.padStart(8)} ${'K'.padStart(3)} ${'total MiB'.padStart(10)} ${'kB/atom'.padStart(8)} ${'dispatches'.padStart(10)}  largest binding`);
    const sizes: (PlannedSize & { tiling: number[] })[] = [];
    for (const target of args.atoms) {
      const rep = tileRepeats(base.numbers.length, target);
      const s: Structure = supercell(base, ...rep);
      assertSystemSupported(s, model.config, { allowUntrainedElements: true });
      let p: PlannedSize;
      try {
        const m = await planMdStep(model, s, { bindingLimit: limit ?? undefined });
        p = { ...m, over_binding_limit: limit !== null && m.largest_binding.bytes > limit, refused: null };
      } catch (e) {
        // the runtime could not plan around the limit: what a user with such an adapter would be told
        if (!(e instanceof DeviceLimitError)) throw e;
        io.log(`${String(s.numbers.length).padStart(8)} ${rep.join('x').padStart(8)}  refused: ${e.message}`);
        sizes.push({ atoms: s.numbers.length, refused: e.message, over_binding_limit: true, tiling: rep });
        continue;
      }
      sizes.push({ ...p, tiling: rep });
      io.log(`${String(p.atoms).padStart(8)} ${rep.join('x').padStart(8)} ${String(p.slots).padStart(3)} ${(p.bytes / MIB).toFixed(1).padStart(10)} ` +
        `${(p.bytes_per_atom / 1000).toFixed(1).padStart(8)} ${String(p.dispatches_per_md_step).padStart(10)}  ` +
        `${p.largest_binding.name} (${(p.largest_binding.bytes / MIB).toFixed(1)} MiB)${p.over_binding_limit ? '  OVER THE LIMIT' : ''}`);
    }
    if (args.json) {
      await writeFile(args.json, JSON.stringify({ model: c.name, system: args.system, binding_limit: limit, sizes }, null, 2) + '\n');
      io.log('');
      io.log(`wrote ${args.json}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof Error) {
      io.error(`error: ${e.message}`);
      if (process.env.SCAIP_DEBUG) io.error(e.stack ?? '');
      return 1;
    }
    throw e;
  }
}
