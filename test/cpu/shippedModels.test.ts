// Every model listed in public/models/index.json loads in the float64 CPU runtime and reproduces the PyTorch
// reference's energy, forces and stress on its held-out frame (test/fixtures/shipped/<dir>.case.json, written
// by training/export.py from the shipped weights).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import type { Structure } from '../../src/io/structure';
import { loadModelFromPath } from '../../src/model/loadNode';

const ROOT = join(__dirname, '..', '..');
const MODELS = join(ROOT, 'public', 'models');
const CASES = join(ROOT, 'test', 'fixtures', 'shipped');

interface ShippedCase {
  inputs: { numbers: number[]; positions: number[][]; cell: number[][] | null; pbc: [boolean, boolean, boolean]; charge: number; spin: number };
  outputs: { energy: number; energy_raw: number; forces: number[][]; stress: number[][] | null };
}

const indexPath = join(MODELS, 'index.json');
const index = existsSync(indexPath)
  ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { default: string; models: { dir: string }[] })
  : { default: '', models: [] };

function maxAbsErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

describe('shipped models in the CPU runtime (float64) vs the PyTorch reference', () => {
  it('index.json names a default that is listed', () => {
    if (index.models.length === 0) return;
    expect(index.models.map((m) => m.dir)).toContain(index.default);
  });
  for (const { dir } of index.models) {
    it(`${dir}: held-out frame energy, forces, stress`, async () => {
      const c = JSON.parse(readFileSync(join(CASES, `${dir}.case.json`), 'utf8')) as ShippedCase;
      const model = await loadModelFromPath(join(MODELS, dir));
      const s: Structure = {
        numbers: Int32Array.from(c.inputs.numbers),
        positions: Float64Array.from(c.inputs.positions.flat()),
        cell: c.inputs.cell ? Float64Array.from(c.inputs.cell.flat()) : null,
        pbc: c.inputs.pbc,
        charge: c.inputs.charge,
        spin: c.inputs.spin,
      };
      const r = computeCpu(model, s);
      expect(Math.abs(r.energy - c.outputs.energy)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c.outputs.energy)));
      expect(maxAbsErr(r.forces, c.outputs.forces.flat())).toBeLessThan(1e-9);
      if (c.outputs.stress) expect(maxAbsErr(r.stress!, c.outputs.stress.flat())).toBeLessThan(1e-10);
    }, 120_000);
  }
});
