// The workbench's drift readout: the meV/atom/ps of the linear fit next to the mlipaudit ratio
// |slope|·duration/σ(E_kin) and its 50 ps extrapolation, on a series with known numbers.
import { describe, expect, it } from 'vitest';
import { driftReadout, formatRatio } from '../../src/ui/plots/drift';

describe('drift readout', () => {
  it('gives drift, ratio over the samples and the ratio extrapolated to 50 ps', () => {
    // 192 atoms, 2 ps, E_tot rising 0.0384 eV/ps (0.2 meV/atom/ps); E_kin a sine of amplitude 0.5 eV (σ = 0.5/√2)
    const n = 401, atoms = 192;
    const t = Array.from({ length: n }, (_, i) => i * 0.005);
    const conserved = t.map((x) => -1000 + 0.0384 * x);
    const ekin = t.map((x) => 74 + 0.5 * Math.sin(2 * Math.PI * 4 * x));
    const r = driftReadout(t, conserved, ekin, atoms)!;
    expect(r.meVPerAtomPs).toBeCloseTo(0.2, 10);
    const sigma = 0.5 / Math.SQRT2;
    expect(Math.abs(r.sigmaEkinMeVPerAtom / ((sigma * 1000) / atoms) - 1)).toBeLessThan(2e-3);
    expect(Math.abs(r.ratio / ((0.0384 * 2) / sigma) - 1)).toBeLessThan(2e-3); // 0.217
    expect(Math.abs(r.ratio50ps / ((0.0384 * 50) / sigma) - 1)).toBeLessThan(2e-3); // 5.43
    expect(formatRatio(0.21723)).toBe('0.217');
    expect(formatRatio(5.4306)).toBe('5.43');
  });

  it('is empty with too few samples and shows ∞ when E_kin does not fluctuate', () => {
    expect(driftReadout([0, 1], [0, 1], [1, 1], 3)).toBeNull();
    const r = driftReadout([0, 1, 2], [0, 1, 2], [5, 5, 5], 3)!;
    expect(formatRatio(r.ratio)).toBe('∞');
  });
});
