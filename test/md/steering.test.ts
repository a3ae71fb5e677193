// The pull tool (src/md/steering.ts): in float64 NVE with a moving target, E_tot − W_pull is conserved to the
// integrator's O(dt²) precision while E_tot itself changes by the work; the WGSL springs and work follow the
// float64 engine step for step; bad stiffness, atoms and targets are refused with SteeringError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { GpuMdEngine } from '../../src/md/gpuEngine';
import { LennardJonesCpu } from '../../src/md/lj';
import { LennardJonesGpu } from '../../src/md/ljGpu';
import { SteeringError, pullEnergy, type Pull } from '../../src/md/steering';
import { DEFAULT_SETTINGS, type MdEngine } from '../../src/md/types';
import { argon, argonLj, mdDevice } from './helpers';

const sys = argon(2, 5.8, 60, 5); // 32 atoms
const lj = argonLj(5.7, true, false);
const noop = { sampleEvery: 1000, onSample: () => {} };

/** Atoms 0 and 1 pulled toward a target moving at `speed` Å/fs along x from atom 0's start (a group of two). */
function pullAt(t: number, speed: number, k: number): Pull {
  const x = sys.positions;
  return {
    atoms: [0, 1], offsets: [0, 0, 0, x[3] - x[0], x[4] - x[1], x[5] - x[2]],
    target: [x[0] + speed * t, x[1], x[2]], stiffness: k,
  };
}

/** Run `time` fs of NVE at time step dt, moving the target every step; E_tot − W_pull and E_tot after each step. */
async function pulledRun(e: MdEngine, dt: number, time: number, speed: number, k: number, pullFor = time) {
  const conserved: number[] = [], etot: number[] = [];
  let last = null;
  for (let step = 0; step * dt < time; step++) {
    e.setPull(step * dt < pullFor ? pullAt(step * dt, speed, k) : null);
    await e.run(1, noop);
    last = await e.sample();
    etot.push(last.epot + last.ekin);
    conserved.push(last.epot + last.ekin - last.pullWork!);
  }
  return { conserved, etot, last: last! };
}

const spread = (a: number[]) => Math.max(...a) - Math.min(...a);

describe('pull tool, float64 CPU engine', () => {
  it('conserves E_tot − W_pull in NVE with a moving target to O(dt²), and E_tot − W = E_tot + U_spring for a fixed one', async () => {
    const speed = 0.01, k = 0.2, time = 400; // target moves 4 Å over 400 fs
    const runs = [];
    for (const dt of [4, 2]) {
      const e = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt });
      runs.push(await pulledRun(e, dt, time, speed, k));
    }
    const [coarse, fine] = runs;
    const work = coarse.last.pullWork!;
    // The pull heats the crystal: E_tot changes by ~W, far more than the conserved quantity moves.
    expect(work).toBeGreaterThan(0.05);
    expect(spread(coarse.etot)).toBeGreaterThan(0.05);
    expect(spread(coarse.conserved)).toBeLessThan(0.02 * work);
    // Halving the time step shrinks the error about 4×: it is the integrator's, not the bookkeeping's.
    const ratio = spread(coarse.conserved) / spread(fine.conserved);
    console.log(`pull NVE: W ${work.toFixed(4)} eV, E_tot spread ${spread(coarse.etot).toFixed(4)} eV, E_tot − W spread ${spread(coarse.conserved).toExponential(2)} eV (dt 4 fs), ${spread(fine.conserved).toExponential(2)} eV (dt 2 fs)`);
    expect(ratio).toBeGreaterThan(2.8);
    expect(ratio).toBeLessThan(5.5);
    // With the target held still, the trapezoid work is exactly −ΔU_spring along each straight step.
    const e = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt: 2 });
    const p = pullAt(100, speed, k);
    e.setPull(p);
    // (The first step's half kick ran without the spring, so the identity holds from the end of that step on.)
    await e.run(1, noop);
    const s0 = await e.sample();
    await e.run(50, noop);
    const s = await e.sample();
    const dU = pullEnergy(p, s.positions) - pullEnergy(p, s0.positions);
    expect(Math.abs(dU)).toBeGreaterThan(1e-3);
    expect(Math.abs(s.pullWork! - s0.pullWork! + dU)).toBeLessThan(1e-12);
  });

  it('keeps the work through a release and a checkpoint', async () => {
    const e = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), { ...DEFAULT_SETTINGS, dt: 4 });
    const { conserved, last } = await pulledRun(e, 4, 200, 0.01, 0.2, 100);
    const wAtRelease = last.pullWork!;
    expect(wAtRelease).toBeGreaterThan(0);
    expect(spread(conserved)).toBeLessThan(0.05 * wAtRelease);
    const resumed = CpuMdEngine.fromCheckpoint(await e.checkpoint(), new LennardJonesCpu(sys.numbers, lj));
    expect((await resumed.sample()).pullWork).toBe(wAtRelease);
    await resumed.run(10, noop);
    expect((await resumed.sample()).pullWork).toBe(wAtRelease); // released: no more work
  });

  it('refuses bad stiffness, atoms, offsets and targets with SteeringError naming the field', () => {
    const e = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), DEFAULT_SETTINGS);
    const ok = pullAt(0, 0, 1);
    const bad: [Partial<Pull>, string][] = [
      [{ stiffness: 0 }, 'stiffness'], [{ stiffness: -1 }, 'stiffness'], [{ stiffness: NaN }, 'stiffness'],
      [{ stiffness: Infinity }, 'stiffness'], [{ atoms: [0, 32], offsets: [0, 0, 0, 0, 0, 0] }, 'atoms'],
      [{ atoms: [] , offsets: [] }, 'atoms'], [{ atoms: [1, 1] }, 'atoms'], [{ offsets: [0, 0, 0] }, 'offsets'],
      [{ target: [0, NaN, 0] }, 'target'],
    ];
    for (const [change, field] of bad) {
      let err: unknown = null;
      try { e.setPull({ ...ok, ...change }); } catch (x) { err = x; }
      expect(err, field).toBeInstanceOf(SteeringError);
      expect((err as SteeringError).field).toBe(field);
    }
  });
});

describe('pull tool, WebGPU engine against the float64 one', () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await mdDevice(); });
  afterAll(() => gpu?.destroy());

  it('same spring forces and work over a pulled, moved and released run', async () => {
    const settings = { ...DEFAULT_SETTINGS, dt: 4 };
    const g = await GpuMdEngine.create(gpu.device, sys, new LennardJonesGpu(sys.numbers, lj), settings);
    const c = new CpuMdEngine(sys, new LennardJonesCpu(sys.numbers, lj), settings);
    const a = await pulledRun(g, 4, 60, 0.02, 0.5, 40);
    const b = await pulledRun(c, 4, 60, 0.02, 0.5, 40);
    // Mid-pull: the force on the pulled atom is the model's plus the spring's on both engines.
    g.setPull(pullAt(60, 0.02, 0.5)); c.setPull(pullAt(60, 0.02, 0.5));
    await g.run(1, noop); await c.run(1, noop);
    const sg = await g.sample(), sc = await c.sample();
    g.destroy();
    let df = 0, fmax = 0;
    for (let i = 0; i < sc.forces.length; i++) { df = Math.max(df, Math.abs(sg.forces[i] - sc.forces[i])); fmax = Math.max(fmax, Math.abs(sc.forces[i])); }
    expect(df / fmax).toBeLessThan(1e-4);
    // The CPU engine's force on atom 0 is the model's plus k (X − x).
    const model = new LennardJonesCpu(sys.numbers, lj).compute(sc.positions, sys.cell, sys.pbc, false).forces;
    const pl = pullAt(60, 0.02, 0.5);
    for (let kk = 0; kk < 3; kk++) expect(sc.forces[kk] - model[kk]).toBeCloseTo(0.5 * (pl.target[kk] - sc.positions[kk]), 10);
    expect(b.last.pullWork!).toBeGreaterThan(1e-3);
    expect(Math.abs(a.last.pullWork! - b.last.pullWork!) / b.last.pullWork!).toBeLessThan(1e-3);
    expect(Math.abs(sg.pullWork! - sc.pullWork!) / sc.pullWork!).toBeLessThan(1e-3);
    console.log(`pull GPU vs CPU: max |ΔF|/max|F| ${(df / fmax).toExponential(2)}, W ${sg.pullWork} vs ${sc.pullWork} eV`);
  }, 300_000);
});
