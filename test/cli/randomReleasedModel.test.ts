// A random model in the released md_NeNo layout (node attention, no LAE/ERoPE, k 30 with 50 candidates,
// charge/spin embeddings, 110 elements with OMol references), scaled down to H 32 / 2 layers / RBF 32 and
// made by training/make_random_model.py through the checkpoint converter (fairchem-shaped checkpoint with
// EMA weights): `calc` on the float64 CPU backend and on WebGPU agree on ethanol (E 1e-5 relative, forces
// 1e-4 norm-wise). The full md_NeNo size (85M parameters) was measured by hand: docs/model-format.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCalc } from '../../src/cli/calcCommand';

const ETHANOL = `9\nethanol\nC -0.0017 1.0 0.0\nC -0.0017 -0.528 0.0\nO 1.356 -0.962 0.0\nH -1.028 1.388 0.0\n` +
  `H 0.505 1.396 0.888\nH 0.505 1.396 -0.888\nH -0.517 -0.914 0.888\nH -0.517 -0.914 -0.888\nH 1.36 -1.931 0.0\n`;

describe('random model in the released layout, through the converter', () => {
  it('calc: CPU float64 and WebGPU agree on ethanol', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'random-released-'));
    execFileSync('/usr/bin/python3', ['training/make_random_model.py', '--preset', 'tiny_NeNo', '--out', join(dir, 'model'), '--seed', '5'],
      { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, stdio: 'pipe' });
    const config = JSON.parse(readFileSync(join(dir, 'model', 'model.json'), 'utf8'));
    expect(config.provenance.converter).toBe('training/convert_checkpoint.py');
    expect(config.architecture).toMatchObject({ knn_k: 30, knn_candidates: 50, use_node_attention: true, use_lae: false, use_erope: false, use_charge_spin: true });
    writeFileSync(join(dir, 'ethanol.xyz'), ETHANOL);
    const result = async (backend: string) => {
      const err: string[] = [];
      const json = join(dir, `${backend}.json`);
      const code = await runCalc(['--model', join(dir, 'model'), '--system', join(dir, 'ethanol.xyz'), '--backend', backend, '--json', json],
        { log: () => {}, error: (l) => err.push(l) });
      expect(code, err.join('\n')).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8')) as { energy: number; forces: number[][] };
    };
    const cpu = await result('cpu');
    const gpu = await result('webgpu');
    expect(Math.abs(gpu.energy - cpu.energy) / Math.abs(cpu.energy)).toBeLessThan(1e-5);
    // The element references (the same float64 sum on both backends) dominate E: compare the network's part too.
    const refs = config.normalization.element_references as number[];
    const offset = config.normalization.energy_shift + 2 * refs[6] + refs[8] + 6 * refs[1];
    expect(Math.abs(gpu.energy - cpu.energy) / Math.abs(cpu.energy - offset)).toBeLessThan(1e-5);
    const f = cpu.forces.flat(), g = gpu.forces.flat();
    const num = Math.hypot(...f.map((x, i) => g[i] - x)), den = Math.hypot(...f);
    expect(den).toBeGreaterThan(0);
    expect(num / den).toBeLessThan(1e-4);
  }, 600_000);
});
