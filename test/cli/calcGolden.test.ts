// End to end: golden model written as model.json + weights.safetensors, golden structure written as extXYZ,
// through the calc command and its JSON output, against the numbers of the public AllScAIP code.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCalc } from '../../src/cli/calcCommand';
import { writeExtXyz } from '../../src/io/xyz';
import { serializeSafetensors } from '../../src/model/safetensors';
import { flat, goldenModel, goldenStructure, readGolden } from '../helpers/golden';
import { maxRelErr } from '../helpers/compare';


describe('calc command on golden cases written to files', () => {
  for (const name of ['case2_water8_released_flags', 'case3_waterbox12_pbc_allflags']) {
    it(`${name}: energy, forces and stress to 1e-9 relative`, async () => {
      const g = readGolden(name);
      const model = goldenModel(g);
      const structure = goldenStructure(g);
      if (!structure.pbc.some(Boolean)) structure.cell = null;
      const dir = mkdtempSync(join(tmpdir(), `golden-${name}-`));
      // The golden model is a random-weight test model: list the structure's own elements so calc checks them.
      const elements = [...new Set(structure.numbers)].sort((x, y) => x - y);
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...model.config, elements }, null, 2));
      writeFileSync(join(dir, 'weights.safetensors'), serializeSafetensors(model.tensors));
      writeFileSync(join(dir, 'system.extxyz'), writeExtXyz(structure));
      const out = join(dir, 'out.json');
      const errors: string[] = [];
      const code = await runCalc(['--model', dir, '--system', join(dir, 'system.extxyz'), '--json', out], {
        log: () => {},
        error: (l) => errors.push(l),
      });
      expect(errors).toEqual([]);
      expect(code).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8'));
      const energy = flat(g.outputs.energy)[0];
      expect(Math.abs(result.energy - energy) / Math.abs(energy)).toBeLessThan(1e-9);
      expect(maxRelErr(result.forces.flat(), flat(g.outputs.forces))).toBeLessThan(1e-9);
      if (g.outputs.stress) {
        expect(maxRelErr(result.stress.flat(), flat(g.outputs.stress))).toBeLessThan(1e-9);
      } else {
        expect(result.stress).toBeUndefined();
      }
    });
  }
});
