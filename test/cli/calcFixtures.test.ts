// The calc command on the shared fixtures of test/fixtures/ (model.json + weights.safetensors written by the
// PyTorch reference's generator, case.json with its float64 outputs): every fixture model loads, and the
// command reproduces the reference outputs for the cases that exercise distinct paths of the command.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCalc } from '../../src/cli/calcCommand';
import type { Structure } from '../../src/io/structure';
import { writeExtXyz } from '../../src/io/xyz';
import { loadModelFromPath } from '../../src/model/loadNode';
import { expectedTensors } from '../../src/model/weights';
import { maxRelErr } from '../helpers/compare';

const FIXTURES = join(__dirname, '..', 'fixtures');
const index = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as { cases: { name: string }[] };

interface CaseJson {
  inputs: { numbers: number[]; positions: number[][]; cell: number[][] | null; pbc: boolean[]; charge: number; spin: number };
  outputs: { energy: number; forces: number[][]; stress: number[][] | null };
}


describe('fixture models', () => {
  it('all load and validate', async () => {
    expect(index.cases.length).toBeGreaterThan(0);
    for (const { name } of index.cases) {
      const model = await loadModelFromPath(join(FIXTURES, name));
      expect(model.tensors.size, name).toBe(expectedTensors(model.config).length);
    }
  });
});

describe('calc command on fixtures written as extXYZ', () => {
  // direct force head; element references + normalisation; partial pbc; triclinic cell; charge/spin; converter output
  const cases = ['direct-forces', 'normalized-refs', 'slab-mixed-pbc', 'triclinic-pbc', 'charged-radical', 'converted-checkpoint'];
  for (const name of cases.filter((c) => index.cases.some((x) => x.name === c))) {
    it(`${name}: energy, forces and (periodic) stress to 1e-9 relative`, async () => {
      const { inputs, outputs } = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')) as CaseJson;
      const structure: Structure = {
        numbers: Int32Array.from(inputs.numbers),
        positions: Float64Array.from(inputs.positions.flat()),
        cell: inputs.cell ? Float64Array.from(inputs.cell.flat()) : null,
        pbc: [inputs.pbc[0], inputs.pbc[1], inputs.pbc[2]],
        charge: inputs.charge,
        spin: inputs.spin,
      };
      const dir = mkdtempSync(join(tmpdir(), `fixture-${name}-`));
      writeFileSync(join(dir, 'system.extxyz'), writeExtXyz(structure));
      const out = join(dir, 'out.json');
      const errors: string[] = [];
      const code = await runCalc(['--model', join(FIXTURES, name), '--system', join(dir, 'system.extxyz'), '--json', out], {
        log: () => {},
        error: (l) => errors.push(l),
      });
      // fixture models predate "elements": the only message is the warning that says so
      // (the converted checkpoint lists them: no message at all)
      const unlisted = /^warning: model [\w-]+ does not list the elements it was trained on/;
      expect(errors).toEqual(name === 'converted-checkpoint' ? [] : [expect.stringMatching(unlisted)]);
      expect(code).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8'));
      expect(Math.abs(result.energy - outputs.energy) / Math.abs(outputs.energy)).toBeLessThan(1e-9);
      expect(maxRelErr(result.forces.flat(), outputs.forces.flat())).toBeLessThan(1e-9);
      if (inputs.pbc.some(Boolean) && outputs.stress) {
        expect(maxRelErr(result.stress.flat(), outputs.stress.flat())).toBeLessThan(1e-9);
      } else {
        expect(result.stress).toBeUndefined();
      }
    });
  }
});
