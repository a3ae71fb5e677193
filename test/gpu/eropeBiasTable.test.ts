// The ERoPE bias table of node attention (src/gpu/ops/eropeBiasTable.ts) against the float64 function it
// tabulates: what the kernels' cubic Hermite interpolation gives (computed here in float64 from the float32
// table, the same formula as common.wgsl `table_bias`) for the shipped default model's weights and for a
// released-size layer (32 frequencies, 10 heads, random weights), over r from 0 to the end of the table.
// The kernel-level check (GPU vs float64 with the table in use) is test/gpu/nodeAttention.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { eropeFrequencies } from '../../src/model/architecture';
import { loadModelFromPath } from '../../src/model/loadNode';
import { extractParams } from '../../src/model/params';
import { BIAS_TABLE_RANGE, eropeBiasTable, exactBias, interpolateBias } from '../../src/gpu/ops/eropeBiasTable';
import { randomArray } from './helpers';

function worstError(omega: ArrayLike<number>, W: ArrayLike<number>, numHeads: number) {
  const t = eropeBiasTable(omega, W, numHeads);
  let bias = 0, slope = 0, scale = 0;
  // dense near the origin (sinc's Taylor branch, the steepest part) and across the whole table
  const rs: number[] = [];
  for (let i = 0; i < 4000; i++) rs.push((i * 0.000731) % 0.5);
  for (let i = 0; i < 20000; i++) rs.push(((i * 7.31e-3) * 1.37) % (BIAS_TABLE_RANGE - 1e-3));
  for (const r of rs)
    for (let h = 0; h < numHeads; h++) {
      const got = interpolateBias(t, h, r)!;
      const want = exactBias(omega, W, h, r);
      bias = Math.max(bias, Math.abs(got.bias - want.bias));
      slope = Math.max(slope, Math.abs(got.dbias - want.dbias));
      scale = Math.max(scale, Math.abs(want.dbias));
    }
  return { bias, slope, scale, table: t };
}

describe('ERoPE bias table', () => {
  it('matches the float64 bias and slope of the shipped default model to float32 resolution', async () => {
    const index = JSON.parse(readFileSync('public/models/index.json', 'utf8'));
    const dir = `public/models/${index.default}`;
    const model = await loadModelFromPath(dir);
    const params = extractParams(model);
    const omega = eropeFrequencies(model.config.architecture.erope_num_freq);
    const nh = model.config.architecture.num_heads;
    let checked = 0;
    for (const layer of params.layers) {
      const W = layer.node?.radialWeight;
      if (!W) continue;
      const e = worstError(omega, W, nh);
      // float32 storage alone is ~6e-8 relative; the interpolation adds less than that in the bias
      expect(e.bias).toBeLessThan(5e-7);
      expect(e.slope).toBeLessThan(2e-6 * Math.max(1, e.scale));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('a released-size layer (32 frequencies, 10 heads) too, and past the table there is no value', () => {
    const omega = eropeFrequencies(32);
    const W = randomArray(10 * 32, 7, 0.5);
    const e = worstError(omega, W, 10);
    expect(e.bias).toBeLessThan(5e-7);
    expect(e.slope).toBeLessThan(2e-6 * Math.max(1, e.scale));
    expect(interpolateBias(e.table, 0, BIAS_TABLE_RANGE)).toBeNull();
    expect(interpolateBias(e.table, 0, BIAS_TABLE_RANGE - 0.01)).not.toBeNull();
  });
});
