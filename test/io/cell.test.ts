import { describe, expect, it } from 'vitest';
import { cellFromParameters, cellHandedness, cellHeights, cellProblem, cellVolume } from '../../src/io/cell';

describe('cellHeights', () => {
  it('is the box edge for an orthorhombic cell', () => {
    expect(cellHeights([3, 0, 0, 0, 4, 0, 0, 0, 5])).toEqual([3, 4, 5]);
  });

  it('is V/|b×c| etc. for a triclinic cell, independent of vector lengths', () => {
    const cell = cellFromParameters(10, 12, 14, 70, 80, 60);
    const [ha, hb, hc] = cellHeights(cell);
    const V = cellVolume(cell);
    // For a monoclinic-like check: the height along c is V / (|a||b| sin γ).
    expect(hc).toBeCloseTo(V / (10 * 12 * Math.sin((60 * Math.PI) / 180)), 10);
    // Heights never exceed the lengths and shrink with a skewed cell.
    expect(ha).toBeLessThan(10);
    expect(hb).toBeLessThan(12);
    expect(hc).toBeLessThan(14);
    // A sheared copy with the same a, b and the same c projection has the same heights.
    const sheared = [10, 0, 0, 5, 8, 0, 0, 0, 6];
    expect(cellHeights(sheared)[2]).toBeCloseTo(6, 12);
    expect(cellHeights(sheared)[0]).toBeCloseTo((10 * 8) / Math.hypot(8, 5), 12);
  });
});

describe('cellProblem', () => {
  it('accepts ordinary cells at any scale, including left-handed ones', () => {
    expect(cellProblem([10, 0, 0, 0, 10, 0, 0, 0, 10])).toBeNull();
    expect(cellProblem([1e-3, 0, 0, 0, 1e-3, 0, 0, 0, 1e-3])).toBeNull();
    expect(cellProblem([1e5, 0, 0, 0, 1e5, 0, 0, 0, 1e5])).toBeNull();
    expect(cellProblem(cellFromParameters(5, 6, 7, 40, 50, 60))).toBeNull();
    const left = [10, 0, 0, 0, 0, 10, 0, 10, 0];
    expect(cellProblem(left)).toBeNull();
    expect(cellHandedness(left)).toBe(-1);
    expect(cellHandedness([10, 0, 0, 0, 10, 0, 0, 0, 10])).toBe(1);
  });

  it('rejects a nearly singular cell whatever its scale, with lengths and angles', () => {
    // The reproducer: b is a, tilted by 1e-7 rad. |det| = 1e-4 Å³ would pass an absolute 1e-9 threshold.
    const p = cellProblem([10, 0, 0, 10, 1e-6, 0, 0, 0, 10]);
    expect(p).toMatch(/linearly dependent/);
    expect(p).toMatch(/a = 10 Å, b = 10 Å, c = 10 Å, α = 90°, β = 90°, γ = 0\.0000057\d*°/);
    // A tiny but well-shaped cell is fine (scale-free), a huge but flat one is not.
    expect(cellProblem([1e4, 0, 0, 0, 1e4, 0, 0, 0, 1e-4])).toBeNull();
    expect(cellProblem([1e4, 0, 0, 1e4, 1e-5, 0, 0, 0, 1e4])).toMatch(/linearly dependent/);
  });

  it('rejects overflowing, zero-length and non-finite cells', () => {
    expect(cellProblem([1e200, 1e200, 0, 1e200, 1e200, 0, 0, 0, 1])).toMatch(/overflow|too long/);
    expect(cellProblem([1e200, 0, 0, 0, 1e200, 0, 0, 0, 1e200])).toMatch(/overflow|too long/);
    expect(cellProblem([0, 0, 0, 0, 10, 0, 0, 0, 10])).toMatch(/vector a has zero length/);
    expect(cellProblem([10, 0, 0, 0, Number.NaN, 0, 0, 0, 10])).toMatch(/entry 5 of 9 is NaN/);
    expect(cellProblem([10, 0, 0, 0, Number.POSITIVE_INFINITY, 0, 0, 0, 10])).toMatch(/Infinity/);
    expect(cellProblem([10, 0, 0])).toMatch(/9 numbers/);
    // γ = 360° from cell parameters gives b ∥ a.
    expect(cellProblem(cellFromParameters(10, 10, 10, 90, 90, 360))).toMatch(/linearly dependent/);
  });
});
