// Host-side observables on constructed inputs with known answers: ideal-gas pressure and g(r) = 1, the drift fit
// of a known line, MSD of a known displacement, and the safety checks' messages.
import { describe, expect, it } from 'vitest';
import { DriftTracker, linearFit, Msd, pressureBar, Rdf, thermoRow } from '../../src/md/observables';
import { checkSample, defaultLimits } from '../../src/md/safety';
import type { Sample } from '../../src/md/types';
import { EV_PER_A3_TO_BAR, KB } from '../../src/md/units';

function sample(n: number, over: Partial<Sample> = {}): Sample {
  return {
    step: 0, time: 0, epot: 0, ekin: 0, thermostatEnergy: 0, virial: new Float64Array(9),
    cell: Float64Array.of(20, 0, 0, 0, 20, 0, 0, 0, 20), volume: 8000,
    positions: new Float64Array(3 * n), velocities: new Float64Array(3 * n), forces: new Float64Array(3 * n),
    barostatAttempts: 0, barostatAccepted: 0, fault: null, ...over,
  };
}

describe('observables', () => {
  it('pressure of an ideal gas is N k_B T / V, density from the mass', () => {
    const n = 100, T = 300, dof = 3 * n;
    const s = sample(n, { ekin: 0.5 * dof * KB * T });
    expect(pressureBar(s)).toBeCloseTo((n * KB * T / 8000) * EV_PER_A3_TO_BAR, 8);
    const row = thermoRow(s, dof, n * 39.948, 100, 2);
    expect(row.temperature_K).toBeCloseTo(T, 10);
    expect(row.density_g_cm3).toBeCloseTo((n * 39.948 / 8000) * 1.6605390666, 10);
    expect(row.ns_per_day).toBeCloseTo(100 * 2 * 86400 / 1e6, 10);
    expect(Number.isNaN(pressureBar(sample(n, { virial: null })))).toBe(true);
  });

  it('g(r) of uniformly random points is 1, per element pair', () => {
    const n = 300;
    const numbers = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 8 : 1));
    const rdf = new Rdf(numbers, 8, 16);
    let seed = 1;
    const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    for (let f = 0; f < 20; f++) rdf.add(sample(n, { positions: Float64Array.from({ length: 3 * n }, () => 20 * rand()) }));
    const g = rdf.result();
    expect(Object.keys(g.pairs).sort()).toEqual(['H-H', 'H-O', 'O-O']);
    for (const key of ['H-H', 'H-O']) {
      const outer = g.pairs[key].slice(8); // r > 4 Å: enough counts per bin
      for (const v of outer) expect(Math.abs(v - 1)).toBeLessThan(0.12);
    }
  });

  it('drift of a known line and MSD of a known displacement', () => {
    const d = new DriftTracker(10);
    // E_kin oscillates, E_pot mirrors it, so E_tot is the line −4 + 2e-6·t (eV, t in fs).
    for (let t = 0; t <= 1000; t += 10) d.add(sample(10, { time: t, epot: -5 + 2e-6 * t - 0.01 * Math.sin(t), ekin: 1 + 0.01 * Math.sin(t) }));
    const r = d.report()!;
    expect(r.meV_per_atom_per_ps).toBeCloseTo((2e-6 * 1e6) / 10, 6);
    expect(r.drift_over_sigma_ekin).toBeCloseTo((2e-6 * 1000) / (0.01 * Math.SQRT1_2), 1);
    expect(linearFit([0, 1, 2], [1, 3, 5])).toEqual({ slope: 2, intercept: 1 });
    const m = new Msd(Int32Array.of(18, 18));
    m.add(sample(2));
    m.add(sample(2, { time: 1000, positions: Float64Array.of(1, 0, 0, 0, 2, 0) }));
    expect(m.series[1].msd.Ar).toBeCloseTo(2.5, 12);
  });

  it('safety names the step and the atoms', () => {
    const numbers = Int32Array.of(8, 1, 1), masses = Float64Array.of(16, 1, 1), lim = defaultLimits(300);
    expect(checkSample(sample(3), numbers, masses, 6, lim)).toBeNull();
    const f = new Float64Array(9); f[4] = 500;
    expect(checkSample(sample(3, { step: 40, forces: f }), numbers, masses, 6, lim)!.message)
      .toBe('step 40: exploding forces, |F| = 500.0 eV/Å on atom H1 (limit 100 eV/Å; atoms over it: H1)');
    const p = new Float64Array(9); p[7] = NaN;
    expect(checkSample(sample(3, { step: 7, positions: p }), numbers, masses, 6, lim)!.message)
      .toBe('step 7: NaN/Inf in positions, velocities or forces on atoms H2');
    const hot = checkSample(sample(3, { step: 9, ekin: 3 * KB * 6000, velocities: Float64Array.of(0, 0, 0, 1, 0, 0, 0, 0, 0) }),
      numbers, masses, 6, lim)!;
    expect(hot.message).toMatch(/^step 9: runaway temperature 6000 K \(limit 5000 K\); hottest atoms H1/);
  });
});
