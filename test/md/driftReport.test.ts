// The NVE drift report (src/md/driftReport.ts): the fit and the mlipaudit ratio on synthetic series with a known
// slope and noise, and the energy-continuity check on real MD: ~0 (and shrinking as dt³) for Lennard-Jones argon,
// and the exact size and step of a jump built into an otherwise smooth potential.
import { describe, expect, it } from 'vitest';
import { CpuMdEngine } from '../../src/md/cpuEngine';
import { driftStats, EnergyContinuity } from '../../src/md/driftReport';
import type { CpuForceProvider, ForceResult } from '../../src/md/forceProvider';
import { ARGON, LennardJonesCpu } from '../../src/md/lj';
import { fccLattice, systemFromStructure } from '../../src/md/setup';
import { DEFAULT_SETTINGS } from '../../src/md/types';
import type { Pbc } from '../../src/io/structure';

describe('driftStats', () => {
  it('recovers a known slope, σ(E_kin), ratios and the scatter about the line', () => {
    const n = 2001, atoms = 100, slope = 0.02; // eV/ps over 2 ps
    const t = Float64Array.from({ length: n }, (_, i) => i * 0.001);
    // alternating ±a noise: RMS a about the line, and (for an odd count) uncorrelated with t to O(1/n²)
    const a = 0.003;
    const etot = Float64Array.from(t, (x, i) => -50 + slope * x + (i % 2 ? -a : a));
    // E_kin: a sine of amplitude b over whole periods has σ = b/√2
    const b = 0.4;
    const ekin = Float64Array.from(t, (x) => 25 + b * Math.sin(2 * Math.PI * x * 5));
    const d = driftStats(t, etot, ekin, atoms)!;
    expect(d.samples).toBe(n);
    expect(d.duration_ps).toBeCloseTo(2, 12);
    expect(d.drift_meV_atom_ps).toBeCloseTo((slope * 1000) / atoms, 5); // 0.2 meV/atom/ps
    const sigma = b / Math.SQRT2;
    // (the sampled sine has one point past its 10 whole periods: σ within 1e-3 relative)
    const rel = (got: number, want: number) => Math.abs(got / want - 1);
    expect(rel(d.sigma_ekin_meV_atom, (sigma * 1000) / atoms)).toBeLessThan(1e-3);
    expect(rel(d.mlipaudit_ratio, (slope * 2) / sigma)).toBeLessThan(1e-3);
    expect(rel(d.mlipaudit_ratio_50ps_extrapolated, (slope * 50) / sigma)).toBeLessThan(1e-3);
    expect(d.rms_etot_about_fit_meV_atom).toBeCloseTo((a * 1000) / atoms, 4);
  });

  it('a flat series has zero drift and ratio; too few samples or no time span give null', () => {
    const t = [0, 0.1, 0.2, 0.3], e = [-1, -1, -1, -1], k = [1, 1.1, 0.9, 1];
    const d = driftStats(t, e, k, 10)!;
    expect(d.drift_meV_atom_ps).toBeCloseTo(0, 12);
    expect(d.mlipaudit_ratio).toBeCloseTo(0, 10);
    expect(driftStats([0, 1], [0, 1], [1, 1], 1)).toBeNull();
    expect(driftStats([1, 1, 1], [0, 1, 2], [1, 2, 1], 1)).toBeNull();
  });
});

/** NVE of a CPU engine with a continuity check fed every step; returns the check and the engine. */
async function nveContinuity(provider: CpuForceProvider, dt: number, steps: number, temperature: number,
  structure = fccLattice(18, 3, 5.8)) {
  const system = systemFromStructure(structure, { temperature, seed: 3 });
  const engine = new CpuMdEngine(system, provider, { ...DEFAULT_SETTINGS, ensemble: 'nve', dt });
  const check = new EnergyContinuity(structure.pbc);
  const first = await engine.sample();
  check.add(first.step, first.positions, first.forces, first.epot, first.cell);
  engine.onStep = (step, x, f, e, cell) => check.add(step, x, f, e, cell);
  await engine.run(steps, { sampleEvery: steps, onSample: () => {} });
  return check.stats()!;
}

describe('EnergyContinuity', () => {
  const params = { species: { 18: ARGON }, cutoff: 8.5, shift: true, tailCorrection: false };

  it('finds no unexplained energy on a smooth potential (LJ argon), and the trapezoid error falls as dt³', async () => {
    const s = fccLattice(18, 3, 5.8);
    const lj = new LennardJonesCpu(s.numbers, params);
    const coarse = await nveContinuity(lj, 4, 40, 200);
    const fine = await nveContinuity(lj, 2, 80, 200);
    expect(coarse.pairs).toBe(40);
    expect(fine.pairs).toBe(80);
    // shifted LJ: the energy is continuous at the cutoff, the force has a small step there; still ≤ μeV-scale here
    expect(coarse.max_abs_jump_meV).toBeLessThan(0.05);
    expect(fine.mean_abs_jump_meV).toBeLessThan(coarse.mean_abs_jump_meV / 4); // ideal 8 for dt³
  });

  it('uses the minimum image: wrapping an atom by a lattice vector changes nothing', () => {
    const s = fccLattice(18, 3, 5.8);
    const lj = new LennardJonesCpu(s.numbers, params);
    const x0 = Float64Array.from(s.positions);
    const x1 = Float64Array.from(x0, (v, i) => v + 0.01 * Math.sin(i));
    const r0 = lj.compute(x0, s.cell, s.pbc, false), r1 = lj.compute(x1, s.cell, s.pbc, false);
    const check = new EnergyContinuity(s.pbc);
    const plain = check.residual(x0, r0.forces, r0.energy, x1, r1.forces, r1.energy, s.cell);
    const wrapped = Float64Array.from(x1);
    wrapped[0] -= 17.4; wrapped[4] += 17.4; // atom 0 by −a, atom 1 by +b (L = 17.4 Å)
    expect(check.residual(x0, r0.forces, r0.energy, wrapped, r1.forces, r1.energy, s.cell)).toBeCloseTo(plain, 14);
    expect(Math.abs(plain)).toBeLessThan(1e-4);
  });

  it('finds a built-in 5 meV jump of the energy and the step at which it happens', async () => {
    const s = fccLattice(18, 3, 5.8);
    const lj = new LennardJonesCpu(s.numbers, params);
    // LJ plus 5 meV once atom 0 has moved more than 0.05 Å along x from its start (no force: a pure jump)
    const x0 = s.positions[0];
    let calls = 0, firstJumpCall = -1;
    const jumpy: CpuForceProvider = {
      kind: 'cpu', name: 'LJ with a step',
      compute(positions: Float64Array, cell: Float64Array | null, pbc: Pbc, wantVirial: boolean): ForceResult {
        const r = lj.compute(positions, cell, pbc, wantVirial);
        const past = Math.abs(positions[0] - x0) > 0.05;
        if (past && firstJumpCall < 0) firstJumpCall = calls;
        calls++;
        return { ...r, energy: r.energy + (past ? 0.005 : 0) };
      },
    };
    const c = await nveContinuity(jumpy, 2, 200, 300);
    expect(firstJumpCall).toBeGreaterThan(0); // the atom did cross within the run
    // compute call k (0 = the engine's initial forces) is the state after step k
    expect(c.max_jump_step).toBe(firstJumpCall);
    expect(c.max_abs_jump_meV).toBeGreaterThan(4.9);
    expect(c.max_abs_jump_meV).toBeLessThan(5.1);
  });
});
