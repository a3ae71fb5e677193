import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SphericalHarmonics } from '../../src/cpu/sphericalHarmonics';

// Spherical harmonics computed by e3nn itself (see ../shared/reference/e3nn-sh-vectors.json).
const ref = JSON.parse(readFileSync(new URL('../../../shared/reference/e3nn-sh-vectors.json', import.meta.url), 'utf8'));
const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as number[][];

describe('spherical harmonics (e3nn convention)', () => {
  for (const lmax of [5, 9]) {
    it(`reproduces e3nn lmax=${lmax} to 1e-12`, () => {
      const dirs = parse(ref.directions);
      const want = parse(ref[`lmax${lmax}`]);
      const sh = new SphericalHarmonics(lmax);
      const out = new Float64Array(sh.size);
      let maxErr = 0;
      dirs.forEach((d, i) => {
        sh.evaluate(d[0], d[1], d[2], out);
        expect(want[i].length).toBe(sh.size);
        for (let c = 0; c < sh.size; c++) maxErr = Math.max(maxErr, Math.abs(out[c] - want[i][c]));
      });
      expect(dirs.length).toBeGreaterThan(10);
      expect(maxErr).toBeLessThan(1e-12);
    });
  }

  it('gradient matches finite differences of the polynomial', () => {
    const sh = new SphericalHarmonics(9);
    const g = new Float64Array(sh.size * 3);
    const y0 = new Float64Array(sh.size);
    const yp = new Float64Array(sh.size);
    const ym = new Float64Array(sh.size);
    const u = [0.3, -0.5, Math.sqrt(1 - 0.34)];
    sh.evaluate(u[0], u[1], u[2], y0, 0, g);
    const h = 1e-6;
    let maxErr = 0;
    for (let k = 0; k < 3; k++) {
      const up = [...u]; up[k] += h;
      const um = [...u]; um[k] -= h;
      sh.evaluate(up[0], up[1], up[2], yp);
      sh.evaluate(um[0], um[1], um[2], ym);
      for (let c = 0; c < sh.size; c++) {
        const fd = (yp[c] - ym[c]) / (2 * h);
        maxErr = Math.max(maxErr, Math.abs(fd - g[c * 3 + k]) / (1 + Math.abs(fd)));
      }
    }
    expect(maxErr).toBeLessThan(1e-7);
  });

  it('gives (1, 0, …) for the zero vector', () => {
    const sh = new SphericalHarmonics(5);
    const out = new Float64Array(sh.size).fill(7);
    sh.evaluate(0, 0, 0, out);
    expect(out[0]).toBe(1);
    expect(Array.from(out.slice(1)).every((v) => v === 0)).toBe(true);
  });
});
