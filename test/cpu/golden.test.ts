// The float64 CPU runtime against numbers computed by the public AllScAIP code itself.
import { describe, expect, it } from 'vitest';
import { computeCpu } from '../../src/cpu/model';
import { eropeFrequencies } from '../../src/model/architecture';
import { GOLDEN_CASES, flat, goldenModel, goldenStructure, readGolden } from '../helpers/golden';
import { maxRelErr } from '../helpers/compare';


describe('CPU runtime vs public AllScAIP code (float64 golden outputs)', () => {
  for (const name of GOLDEN_CASES) {
    it(`${name}: energy, forces, stress to 1e-9 relative`, () => {
      const g = readGolden(name);
      const model = goldenModel(g);
      const structure = goldenStructure(g);
      const r = computeCpu(model, structure, { intermediates: true });
      const inter = g.intermediates;
      // graph: edges per atom (including the self-loop)
      const epa = flat(inter.edges_per_atom_including_self);
      const gr = r.intermediates!.graph;
      const mine = Array.from({ length: structure.numbers.length }, (_, a) => gr.edgeRowStart[a + 1] - gr.edgeRowStart[a]);
      expect(mine).toEqual(epa);
      const eRel = Math.abs(r.energy - flat(g.outputs.energy)[0]) / Math.abs(flat(g.outputs.energy)[0]);
      const fRel = maxRelErr(r.forces, flat(g.outputs.forces));
      expect(eRel).toBeLessThan(1e-9);
      expect(fRel).toBeLessThan(1e-9);
      if (g.outputs.stress) {
        expect(r.stress).not.toBeNull();
        expect(maxRelErr(r.stress!, flat(g.outputs.stress))).toBeLessThan(1e-9);
      }
    });
  }

  for (const name of GOLDEN_CASES) {
    it(`${name}: intermediates (envelopes per slot, BOO, input block, layer node states, per-atom energy)`, () => {
      const g = readGolden(name);
      const r = computeCpu(goldenModel(g), goldenStructure(g), { intermediates: true });
      const it = r.intermediates!;
      const inter = g.intermediates;
      const K = inter.num_slots_K as number;
      const valid = flat(inter.valid_slot_mask);
      const srcEnv = flat(inter.src_env);
      const gr = it.graph;
      let envErr = 0;
      for (let a = 0; a < gr.numAtoms; a++) {
        const mine = Array.from(gr.edgeEnv.subarray(gr.edgeRowStart[a], gr.edgeRowStart[a + 1]));
        const theirs = srcEnv.slice(a * K, a * K + K).filter((_, r) => valid[a * K + r] === 1);
        expect(mine.length).toBe(theirs.length);
        mine.forEach((x, i) => { envErr = Math.max(envErr, Math.abs(x - theirs[i])); });
      }
      expect(envErr).toBeLessThan(1e-12);
      expect(maxRelErr(it.features.boo, flat(inter.boo_node_direction_expansion))).toBeLessThan(1e-12);
      expect(maxRelErr(it.inputNode, flat(inter.input_block_output_node_slot0))).toBeLessThan(1e-12);
      (inter.layer_outputs_node_slot0 as { data: number[] }[]).forEach((layer, l) => {
        expect(maxRelErr(it.layerNodeStates[l], flat(layer))).toBeLessThan(1e-11);
      });
      expect(maxRelErr(it.energyPerAtom, flat(inter.energy_per_atom))).toBeLessThan(1e-11);
    });
  }

  it('ERoPE frequencies equal the float32 values the reference builds', () => {
    const g = readGolden('case1_water8_allflags');
    expect(Array.from(eropeFrequencies(32))).toEqual(flat(g.intermediates.erope_omega));
  });
});
