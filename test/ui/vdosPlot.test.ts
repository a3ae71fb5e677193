// The workbench VDOS input: the latest evenly spaced stretch of the stored (thinned) trajectory, element masses.
import { describe, expect, it } from 'vitest';
import { evenlySpacedTail, trajectoryVdos } from '../../src/ui/plots/vdos';
import { vdosPeaks } from '../../src/md/vdos';
import { C_CM_PER_FS } from '../../src/md/vdos';

describe('workbench VDOS', () => {
  it('takes the evenly spaced tail of a thinned trajectory', () => {
    // frames 2.5 fs apart, then thinned to 5 fs (as the store does when it grows)
    const times = [0, 5, 10, 15, 17.5, 20, 22.5, 25];
    const tail = evenlySpacedTail(times.map((time_fs) => ({ time_fs })));
    expect(tail.dt_fs).toBe(2.5);
    expect(tail.frames.map((f) => f.time_fs)).toEqual([15, 17.5, 20, 22.5, 25]);
    expect(evenlySpacedTail([{ time_fs: 0 }]).frames).toHaveLength(1);
  });

  it('an O–H oscillation in the stored frames shows at its frequency, with H and O masses', () => {
    // O fixed at the origin's centre of mass, H and O moving against each other at 3600 cm⁻¹, 400 frames 2.5 fs apart
    const nu = 3600, omega = 2 * Math.PI * C_CM_PER_FS * nu;
    const mO = 15.999, mH = 1.008;
    const frames = Array.from({ length: 400 }, (_, t) => {
      const r = 0.97 + 0.02 * Math.cos(omega * 2.5 * t);
      return { time_fs: 2.5 * t, unwrapped: new Float64Array([(-mH / (mO + mH)) * r, 0, 0, (mO / (mO + mH)) * r, 0, 0]) };
    });
    const v = trajectoryVdos([8, 1], frames);
    expect(v.frames).toBe(400);
    expect(v.nyquist).toBeCloseTo(1 / (2 * C_CM_PER_FS * 2.5), 6);
    expect(Math.abs(vdosPeaks(v, 100, 1)[0].wavenumber / nu - 1)).toBeLessThan(0.005);
    expect(() => trajectoryVdos([8, 1], frames.slice(0, 5))).toThrow(/at least 9 evenly spaced frames/);
  });
});
