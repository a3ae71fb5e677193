// The page and the real MD worker (CPU engine, Lennard-Jones) joined by an in-process message channel: a system
// sent while the previous one is still being set up (continuing a trajectory from frame 30 right after frame 1 was
// put on the workbench) must start the page's plots from the new system's first sample, with the file's momenta.
// The worker used to finish what was queued for the old system first; its frame has the same atom count, and its
// "ready" and "not busy" arrived before the new system's. Before the page dropped them by system id, the first
// thermo row was frame 1's (19 % off frame 30's kinetic energy in the browser test). Since the worker abandons a build
// that a newer request makes obsolete (second test; test/ui/engineSupersede.test.ts on WebGPU), frame 1's set-up is
// dropped before it starts; the page's id check still guards the frames of a run the worker is stopping.
// The channel is test/ui/workerLoopback.ts, which engineSupersede.test.ts uses too.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Structure } from '../../src/io/structure';
import { readXyz } from '../../src/io/xyz';
import { fccLattice } from '../../src/md/setup';
import { loadModelFromPath } from '../../src/model/loadNode';
import type { FromWorker } from '../../src/ui/engine/protocol';
import { useWorkbench } from '../../src/ui/store';
import { installWorkerLoopback } from './workerLoopback';

/** What the worker posted, and the id of the last system message it had received then. */
const posted: { msg: FromWorker; received: number }[] = [];
let received = 0;
let uninstall = () => {};

/** A 32-atom argon frame (ASE's units: momenta in amu·Å per ASE time unit), as a trajectory frame carries it. */
function frame(seed: number, shift: number): Structure {
  const s = fccLattice(18, 2, 5.26);
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const momenta = Float64Array.from({ length: s.positions.length }, () => rand());
  const positions = Float64Array.from(s.positions, (p) => p + shift * rand());
  return { ...s, positions, arrays: { momenta } };
}

/** ½ Σ p²/m in eV: an amu·Å²/(ASE time)² is an eV by the definition of ASE's time unit. */
const AR_MASS = 39.948;
const ekinOf = (p: Float64Array) => p.reduce((sum, pk) => sum + pk * pk, 0) / (2 * AR_MASS);

let setSystem: (st: Structure, name: string) => void;
let client: typeof import('../../src/ui/engine/client');

beforeAll(async () => {
  uninstall = installWorkerLoopback({
    toPage: (msg) => { posted.push({ msg, received }); },
    toWorker: (msg) => { if (msg.kind === 'system') received = msg.id; },
  });
  await import('../../src/ui/engine/worker');
  client = await import('../../src/ui/engine/client');
  setSystem = client.setSystem;
  useWorkbench.setState((s) => ({ params: { ...s.params, provider: 'lj' } }));
  client.startEngine();
});

afterAll(() => uninstall());

test('a system sent while the previous one is set up starts the plots from its own first sample and momenta', async () => {
  const first = frame(1, 0.1), thirtieth = frame(2, 0.3);
  setSystem(first, 'argon frame 1');
  setSystem(thirtieth, 'argon frame 30');
  const t0 = Date.now();
  while (useWorkbench.getState().busy !== null || useWorkbench.getState().thermo.step.length === 0) {
    if (Date.now() - t0 > 60_000) throw new Error(`the engine did not get ready: busy = ${useWorkbench.getState().busy}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const s = useWorkbench.getState();
  expect(s.systemName).toBe('argon frame 30');
  expect(s.engineDetail).toBe('CPU engine, Lennard-Jones forces');
  expect(s.thermo.step).toEqual([0]);
  // The two frames differ enough that the test would see the old one.
  expect(Math.abs(ekinOf(first.arrays!.momenta as Float64Array) / ekinOf(thirtieth.arrays!.momenta as Float64Array) - 1)).toBeGreaterThan(0.05);
  expect(Math.abs(s.thermo.ekin[0] / ekinOf(thirtieth.arrays!.momenta as Float64Array) - 1)).toBeLessThan(1e-12);
  const p = s.frame!.positions;
  for (let k = 0; k < p.length; k++) expect(Math.abs(p[k] - thirtieth.positions[k])).toBeLessThan(1e-12);
}, 120_000);

// The default model's engine for the 64-water box on the CPU (float64) is one long synchronous set-up once started.
// Lennard-Jones for another system sent right behind it (the page picking a trajectory or other forces) must not
// wait for it: the worker sees the newer request before starting the obsolete build and never builds it.
test('a system sent right behind the default model\'s system on the CPU engine is set up without building the obsolete one', async () => {
  const model = await loadModelFromPath('public/models/water-spcfw-smooth');
  const water = readXyz(readFileSync('public/systems/water64_box.xyz', 'utf8'), 'water64_box.xyz')[0];
  const argon = frame(3, 0.1);
  client.sendModel(model);
  useWorkbench.setState((s) => ({ params: { ...s.params, provider: 'allscaip' } }));
  const from = posted.length;
  const t0 = Date.now();
  setSystem(water, 'water box');
  const waterId = received + 1;
  useWorkbench.setState((s) => ({ params: { ...s.params, provider: 'lj' } }));
  setSystem(argon, 'argon');
  while (useWorkbench.getState().systemName !== 'argon' || useWorkbench.getState().busy !== null || useWorkbench.getState().thermo.step.length === 0) {
    if (Date.now() - t0 > 600_000) throw new Error(`the Lennard-Jones engine did not get ready: busy = ${useWorkbench.getState().busy}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(`Lennard-Jones engine ready ${((Date.now() - t0) / 1000).toFixed(1)} s after the two requests`);
  const s = useWorkbench.getState();
  expect(s.engineDetail).toBe('CPU engine, Lennard-Jones forces');
  expect(s.thermo.step).toEqual([0]);
  expect(Math.abs(s.thermo.ekin[0] / ekinOf(argon.arrays!.momenta as Float64Array) - 1)).toBeLessThan(1e-12);
  // Nothing about the water box after the argon request reached the worker: no engine, no frame, no 'ready'.
  const after = posted.slice(from).filter((p) => p.received > waterId).map((p) => p.msg);
  // the channel's record is not empty: the argon request reached the worker and its engine's 'ready' is in `after`
  expect(received).toBe(waterId + 1);
  expect(after.filter((m) => m.kind === 'ready').length).toBeGreaterThan(0);
  expect(after.filter((m) => 'system' in m && m.system === waterId)).toEqual([]);
  expect(posted.slice(from).filter((p) => p.msg.kind === 'ready' && p.msg.system === waterId)).toEqual([]);
  expect(posted.slice(from).filter((p) => p.msg.kind === 'error')).toEqual([]);
}, 900_000);
