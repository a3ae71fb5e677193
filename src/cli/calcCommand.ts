// The `calc` command: energy, forces and (periodic systems) stress of one structure with one model.
//   npm run calc -- --model <dir or model.json> --system <file> [--backend cpu] [--json out.json]
// Kept apart from calc.ts (which only runs it) so tests can call runCalc in-process.

import { writeFile } from 'node:fs/promises';
import { computeCpu } from '../cpu/model';
import { chemicalSymbol } from '../io/elements';
import { readStructureFile } from '../io/readNode';
import type { Structure } from '../io/structure';
import { loadModelFromPath } from '../model/loadNode';
import type { LoadedModel } from '../model/config';
import { assertSystemSupported } from '../model/systemCheck';

export const CALC_USAGE = `usage: npm run calc -- --model <dir or model.json> --system <file> [options]

  --model <path>     model directory (with model.json) or a model.json file
  --system <file>    structure file: .xyz, .extxyz or .pdb
  --backend <name>   cpu (float64 reference, default) or webgpu (float32 WGSL kernels via Dawn)
  --json <file>      also write {"energy", "forces" (N×3), "stress" (3×3, periodic only)} to this file
  --frame <i>        frame of a multi-frame file (default 0; -1 = last)
  --charge <q>       total charge in e (overrides the file; default from the file, else 0)
  --spin <m>         spin multiplicity 2S+1 (overrides the file; default from the file, else 1)
  --allow-untrained-elements
                     compute elements missing from the model's "elements" list anyway (the numbers
                     for them are not predictions: the model never saw them)
  -h, --help         show this help

Before computing, the structure is checked against the model: elements it was not trained on, a charge
or spin it cannot represent, atoms closer than half their covalent radii sum, a cell too small for the
cutoff. Each is an error (exit 1) naming the atoms.

Units: energy eV, forces eV/Å, stress eV/Å³ (ASE sign convention: (1/V) dE/dε).`;

/** A mistake in the command line (exit code 2, shown with the usage). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Backend = 'cpu' | 'webgpu';

export interface CalcArgs {
  model: string;
  system: string;
  backend: Backend;
  json: string | null;
  frame: number;
  charge: number | null;
  spin: number | null;
  allowUntrainedElements: boolean;
}

const VALUE_OPTIONS = ['model', 'system', 'backend', 'json', 'frame', 'charge', 'spin'] as const;
const FLAG_OPTIONS = ['allow-untrained-elements'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function parseInteger(option: string, text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`--${option} needs a whole number, got "${text}"`);
  return Number(text);
}

/** Parses the command line (arguments after the script name). Returns null for --help. */
export function parseCalcArgs(argv: string[]): CalcArgs | null {
  const values: Partial<Record<ValueOption, string>> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue; // npm and vite-node may pass the separator through
    if (arg === '-h' || arg === '--help') return null;
    if ((FLAG_OPTIONS as readonly string[]).includes(arg.slice(2)) && arg.startsWith('--')) {
      flags.add(arg.slice(2));
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (options start with --)`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)) as ValueOption;
    if (!VALUE_OPTIONS.includes(name)) throw new UsageError(`unknown option "${eq >= 0 ? arg.slice(0, eq) : arg}"`);
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length || (argv[i + 1].startsWith('--') && argv[i + 1] !== '--')) {
        throw new UsageError(`--${name} needs a value`);
      }
      value = argv[++i];
    }
    if (name in values) throw new UsageError(`--${name} is given twice`);
    values[name] = value;
  }
  if (!values.model) throw new UsageError('--model is required (a model directory or model.json)');
  if (!values.system) throw new UsageError('--system is required (an .xyz, .extxyz or .pdb file)');
  const backend = values.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'webgpu') {
    throw new UsageError(`--backend must be "cpu" or "webgpu", got "${backend}"`);
  }
  const spin = values.spin === undefined ? null : parseInteger('spin', values.spin);
  if (spin !== null && spin < 0) throw new UsageError(`--spin is the multiplicity 2S+1 and cannot be negative, got ${spin}`);
  return {
    model: values.model,
    system: values.system,
    backend,
    json: values.json ?? null,
    frame: values.frame === undefined ? 0 : parseInteger('frame', values.frame),
    charge: values.charge === undefined ? null : parseInteger('charge', values.charge),
    spin,
    allowUntrainedElements: flags.has('allow-untrained-elements'),
  };
}

export interface CalcOutput {
  energy: number;
  forces: number[][];
  stress?: number[][];
}

/** True when the structure has a cell and at least one periodic direction (stress is defined). */
export function isPeriodic(s: Structure): boolean {
  return s.cell !== null && s.pbc.some(Boolean);
}

/** Chemical formula in Hill order (C, H, then alphabetical; all alphabetical without carbon). */
export function formula(numbers: Int32Array): string {
  const counts = new Map<string, number>();
  for (const z of numbers) counts.set(chemicalSymbol(z), (counts.get(chemicalSymbol(z)) ?? 0) + 1);
  const hasC = counts.has('C');
  const rank = (s: string) => (!hasC ? 2 : s === 'C' ? 0 : s === 'H' ? 1 : 2);
  return [...counts.keys()]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((s) => (counts.get(s) === 1 ? s : `${s}${counts.get(s)}`))
    .join('');
}

function pickFrame(frames: Structure[], frame: number, fileName: string): Structure {
  const index = frame < 0 ? frames.length + frame : frame;
  if (index < 0 || index >= frames.length) {
    throw new UsageError(`--frame ${frame}: ${fileName} has ${frames.length} frame${frames.length === 1 ? '' : 's'}`);
  }
  return frames[index];
}

/** JSON with one row of numbers per line (full float64 precision), readable and diff-friendly. */
export function formatJson(output: CalcOutput): string {
  const rows = (m: number[][]) => `[\n${m.map((r) => `    [${r.map((x) => JSON.stringify(x)).join(', ')}]`).join(',\n')}\n  ]`;
  const parts = [`  "energy": ${JSON.stringify(output.energy)}`, `  "forces": ${rows(output.forces)}`];
  if (output.stress) parts.push(`  "stress": ${rows(output.stress)}`);
  return `{\n${parts.join(',\n')}\n}\n`;
}

interface Io {
  log: (line: string) => void;
  error: (line: string) => void;
}

let gpuAdapter = '';

/** The WebGPU runtime (Dawn in Node): float32 kernels; the device is released afterwards. */
async function computeWebGpu(model: LoadedModel, structure: Structure, periodic: boolean) {
  const { acquireDevice } = await import('../gpu/device');
  const { GpuRuntime } = await import('../gpu/runtime');
  const { GpuModel } = await import('../gpu/model');
  const ctx = await acquireDevice();
  gpuAdapter = ctx.adapterDescription;
  const rt = new GpuRuntime(ctx.device);
  try {
    return await new GpuModel(rt, model).compute(structure, { stress: periodic });
  } finally {
    rt.destroy();
    ctx.destroy();
  }
}

const defaultIo: Io = { log: (l) => console.log(l), error: (l) => console.error(l) };

/** Runs the command; returns the process exit code (0 ok, 1 bad input or failure, 2 usage). */
export async function runCalc(argv: string[], io: Io = defaultIo): Promise<number> {
  let args: CalcArgs | null;
  try {
    args = parseCalcArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.error(`error: ${e.message}\n\n${CALC_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args === null) {
    io.log(CALC_USAGE);
    return 0;
  }
  try {
    const frames = readStructureFile(args.system);
    const structure = { ...pickFrame(frames, args.frame, args.system) };
    if (args.charge !== null) structure.charge = args.charge;
    if (args.spin !== null) structure.spin = args.spin;
    const model = await loadModelFromPath(args.model);
    // Refuse what the model cannot compute before computing anything (throws UnsupportedSystemError).
    const systemWarnings = assertSystemSupported(structure, model.config, { allowUntrainedElements: args.allowUntrainedElements });
    // The structure's check names the elements left unchecked; the loader's note says the same in general.
    const unlisted = systemWarnings.some((w) => w.kind === 'unknown-elements');
    for (const w of model.warnings ?? []) if (!unlisted) io.error(`warning: ${w}`);
    for (const w of systemWarnings) io.error(`warning: ${w.message}`);
    const periodic = isPeriodic(structure);
    const result = args.backend === 'webgpu'
      ? await computeWebGpu(model, structure, periodic)
      : computeCpu(model, structure, { stress: periodic });

    const n = structure.numbers.length;
    const c = model.config;
    io.log(`model    ${c.name} ${c.version} (${args.model})`);
    io.log(
      `system   ${args.system}${frames.length > 1 ? ` frame ${args.frame}` : ''}: ${n} atoms, ${formula(structure.numbers)}, ` +
        `${periodic ? `periodic (pbc ${structure.pbc.map((p) => (p ? 'T' : 'F')).join('')})` : 'non-periodic'}, ` +
        `charge ${structure.charge}, spin ${structure.spin}`,
    );
    io.log(`backend  ${args.backend === 'webgpu' ? `webgpu (float32, ${gpuAdapter})` : 'cpu (float64)'}`);
    io.log('');
    io.log(`energy   ${result.energy.toFixed(10)} eV`);
    io.log('');
    io.log('forces (eV/Å)');
    io.log(`${'#'.padStart(6)}  el ${'Fx'.padStart(16)} ${'Fy'.padStart(16)} ${'Fz'.padStart(16)}`);
    for (let a = 0; a < n; a++) {
      const f = [0, 1, 2].map((d) => result.forces[3 * a + d].toFixed(10).padStart(16)).join(' ');
      io.log(`${String(a).padStart(6)}  ${chemicalSymbol(structure.numbers[a]).padEnd(2)} ${f}`);
    }
    const output: CalcOutput = {
      energy: result.energy,
      forces: Array.from({ length: n }, (_, a) => [0, 1, 2].map((d) => result.forces[3 * a + d])),
    };
    if (periodic) {
      if (result.stress) {
        io.log('');
        io.log('stress (eV/Å³)');
        for (let r = 0; r < 3; r++) {
          io.log('  ' + [0, 1, 2].map((k) => result.stress![3 * r + k].toExponential(10).padStart(18)).join(' '));
        }
        output.stress = [0, 1, 2].map((r) => [0, 1, 2].map((k) => result.stress![3 * r + k]));
      } else {
        io.log('');
        io.log('stress   not available: this model does not compute stress (direct forces or regress_stress off)');
      }
    }
    if (args.json) {
      await writeFile(args.json, formatJson(output));
      io.log('');
      io.log(`wrote ${args.json}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.error(`error: ${e.message}`);
      return 2;
    }
    // Everything else is about this input (bad file, model, or a structure the model cannot take,
    // e.g. an element outside its table or overlapping atoms): the message says what.
    if (e instanceof Error) {
      io.error(`error: ${e.message}`);
      if (process.env.SCAIP_DEBUG) io.error(e.stack ?? '');
      return 1;
    }
    throw e;
  }
}
