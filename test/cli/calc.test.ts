import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formula, parseCalcArgs, runCalc, UsageError } from '../../src/cli/calcCommand';
import { computeCpu } from '../../src/cpu/model';
import { readStructure } from '../../src/io/read';
import { loadModelFromPath } from '../../src/model/loadNode';
import { validateModelConfig } from '../../src/model/modelJson';
import { serializeSafetensors } from '../../src/model/safetensors';
import { randomTensors, tinyConfigObject } from '../model/helpers';

const ROOT = join(__dirname, '..', '..');
const WATER = join(ROOT, 'public/systems/water.xyz');
const BOX = join(ROOT, 'public/systems/water64_box.xyz');

/** A tiny random-weight model with every flag on, written to a temporary directory. */
function writeTinyModel(): string {
  const obj = tinyConfigObject();
  Object.assign(obj.architecture, { sh_lmax: 5, boo_lmax: 9, rbf_size: 8 });
  obj.elements = [1, 8];
  const config = validateModelConfig(obj);
  const tensors = randomTensors(config, 11);
  const dir = mkdtempSync(join(tmpdir(), 'calc-model-'));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(obj, null, 2));
  writeFileSync(join(dir, 'weights.safetensors'), serializeSafetensors(tensors));
  return dir;
}

const modelDir = writeTinyModel();

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCalc(argv, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('calc arguments', () => {
  it('parses options in both --opt value and --opt=value forms and skips a passed-through "--"', () => {
    expect(parseCalcArgs(['--', '--model', 'm', '--system=s.xyz', '--json', 'o.json', '--frame', '-1', '--charge=1', '--spin', '2'])).toEqual({
      model: 'm', system: 's.xyz', backend: 'cpu', json: 'o.json', frame: -1, charge: 1, spin: 2, allowUntrainedElements: false,
    });
    expect(parseCalcArgs(['--model', 'm', '--system', 's', '--allow-untrained-elements'])?.allowUntrainedElements).toBe(true);
    expect(parseCalcArgs(['--help'])).toBeNull();
  });

  it('rejects bad command lines with a specific message', () => {
    const cases: [string[], string][] = [
      [['--system', 's.xyz'], '--model is required (a model directory or model.json)'],
      [['--model', 'm'], '--system is required (an .xyz, .extxyz or .pdb file)'],
      [['--model', 'm', '--system', 's', '--backend', 'gpu'], '--backend must be "cpu" or "webgpu", got "gpu"'],
      [['--model', 'm', '--system', 's', '--frame', 'last'], '--frame needs a whole number, got "last"'],
      [['--model', 'm', '--system', 's', '--spin', '-1'], '--spin is the multiplicity 2S+1 and cannot be negative, got -1'],
      [['--model', '--system', 's'], '--model needs a value'],
      [['--model', 'm', '--model', 'n', '--system', 's'], '--model is given twice'],
      [['--modle', 'm'], 'unknown option "--modle"'],
      [['model.json'], 'unexpected argument "model.json" (options start with --)'],
    ];
    for (const [argv, message] of cases) expect(() => parseCalcArgs(argv), argv.join(' ')).toThrow(new UsageError(message));
  });

  it('writes formulas in Hill order', () => {
    expect(formula(Int32Array.from([8, 1, 1]))).toBe('H2O');
    expect(formula(Int32Array.from([1, 6, 8, 1, 1, 1]))).toBe('CH4O');
    expect(formula(Int32Array.from([17, 11]))).toBe('ClNa');
  });
});

describe('calc command (in-process)', () => {
  it('prints energy and forces of a molecule, equal to the CPU runtime, and writes JSON without stress', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'calc-')), 'out.json');
    const { code, out, err } = await run(['--model', modelDir, '--system', WATER, '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const expected = computeCpu(await loadModelFromPath(modelDir), readStructure(readFileSync(WATER, 'utf8'), WATER));
    expect(out).toContain(`energy   ${expected.energy.toFixed(10)} eV`);
    expect(out).toContain('3 atoms, H2O, non-periodic, charge 0, spin 1');
    expect(out).not.toContain('stress');
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(written)).toEqual(['energy', 'forces']);
    expect(written.energy).toBe(expected.energy);
    expect(written.forces).toEqual([0, 1, 2].map((a) => Array.from(expected.forces.slice(3 * a, 3 * a + 3))));
  });

  it('adds the stress (3×3) for a periodic box', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'calc-')), 'box.json');
    const { code, out } = await run(['--model', join(modelDir, 'model.json'), '--system', BOX, '--json', json]);
    expect(code).toBe(0);
    expect(out).toContain('192 atoms, H128O64, periodic (pbc TTT)');
    expect(out).toContain('stress (eV/Å³)');
    const expected = computeCpu(await loadModelFromPath(modelDir), readStructure(readFileSync(BOX, 'utf8'), BOX), { stress: true });
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written.forces).toHaveLength(192);
    expect(written.energy).toBe(expected.energy);
    expect(written.stress).toEqual([0, 1, 2].map((r) => Array.from(expected.stress!.slice(3 * r, 3 * r + 3))));
  });

  it('applies --charge and --spin overrides', async () => {
    const base = await run(['--model', modelDir, '--system', WATER]);
    const charged = await run(['--model', modelDir, '--system', WATER, '--charge', '1', '--spin', '2']);
    expect(charged.out).toContain('charge 1, spin 2');
    const energyOf = (s: string) => /energy {3}(\S+) eV/.exec(s)![1];
    expect(energyOf(charged.out)).not.toBe(energyOf(base.out));
  });

  it('reports bad input with exit code 1 and a message naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calc-bad-'));
    const bad = join(dir, 'bad.xyz');
    writeFileSync(bad, '3\n\nO 0 0 0\nH 0.76 0.59\nH -0.76 0.59 0\n');
    const tin = join(dir, 'tin.xyz');
    writeFileSync(tin, '1\n\nSn 0 0 0\n');
    const cases: [string[], string][] = [
      [['--model', modelDir, '--system', bad], `error: ${bad} line 4: expected 4 columns (symbol x y z), got 3`],
      [['--model', modelDir, '--system', join(dir, 'none.xyz')], `error: ${join(dir, 'none.xyz')}: no such file`],
      [['--model', dir, '--system', WATER], `error: ${dir}: the directory has no model.json`],
      [['--model', modelDir, '--system', tin], 'error: model tiny-test cannot represent Sn (atom 0): its atomic embedding covers Z = 1..19'],
    ];
    for (const [argv, message] of cases) {
      const { code, err } = await run(argv);
      expect(err, argv.join(' ')).toBe(message);
      expect(code).toBe(1);
    }
    const usage = await run(['--model', modelDir, '--system', WATER, '--frame', '3']);
    expect(usage.err).toBe(`error: --frame 3: ${WATER} has 1 frame`);
    expect(usage.code).toBe(2);
  });
});

describe('calc refuses what the model cannot compute, before computing (issue 12)', () => {
  const SHIPPED = join(ROOT, 'public/models/water-spcfw-small');
  const ETHANOL = `9\nethanol\nC -0.0017 1.0 0.0\nC -0.0017 -0.528 0.0\nO 1.356 -0.962 0.0\nH -1.028 1.388 0.0\n` +
    `H 0.505 1.396 0.888\nH 0.505 1.396 -0.888\nH -0.517 -0.914 0.888\nH -0.517 -0.914 -0.888\nH 1.36 -1.931 0.0\n`;

  it('ethanol with the water model: exit 1 naming C, its atoms and the model\'s elements; computed only with --allow-untrained-elements', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'calc-eth-')), 'ethanol.xyz');
    writeFileSync(file, ETHANOL);
    const refused = await run(['--model', SHIPPED, '--system', file]);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe('');
    expect(refused.err).toBe(
      'error: model water-spcfw-small was trained on H, O (Z = 1, 8) only; the structure has C (atoms 0, 1). ' +
        'Its energies and forces for them would be meaningless (override: --allow-untrained-elements)',
    );
    const forced = await run(['--model', SHIPPED, '--system', file, '--allow-untrained-elements']);
    expect(forced.code).toBe(0);
    expect(forced.err).toMatch(/^warning: computing C \(atoms 0, 1\) although model water-spcfw-small was trained on H, O/);
    expect(forced.out).toMatch(/energy {3}-?\d+\.\d+ eV/);
  });

  it('charge 5 / spin 3 with a model without charge/spin: exit 1 with both problems', async () => {
    const { code, err } = await run(['--model', SHIPPED, '--system', WATER, '--charge', '5', '--spin', '3']);
    expect(code).toBe(1);
    expect(err).toMatch(/^error: 2 problems with the structure for model water-spcfw-small:\n {2}- .*this one has charge 5\. .*\n {2}- .*this one has spin 3\./);
  });

  it('a 10×10×0.05 Å cell, and a cutoff of 1000 Å on the water box: exit 1 with heights, cutoff and image count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calc-thin-'));
    const thin = join(dir, 'thin.xyz');
    writeFileSync(thin, '3\nLattice="10 0 0 0 10 0 0 0 0.05" Properties=species:S:1:pos:R:3 pbc="T T T"\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n');
    const t0 = performance.now();
    const r = await run(['--model', SHIPPED, '--system', thin]);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.err).toContain("the cell is too small for the model's 6 Å cutoff: its heights are 10, 10, 0.05 Å");
    expect(r.err).toContain('2,169 images in all');
    expect(r.err).toContain('atom 0 (O) and its own periodic image at 0.050 Å');
    // cutoff 1000: the loader refuses the config itself (range), so the graph is never reached
    const obj = JSON.parse(readFileSync(join(SHIPPED, 'model.json'), 'utf8'));
    obj.architecture.cutoff = 1000;
    const far = join(dir, 'far');
    mkdirSync(far);
    writeFileSync(join(far, 'model.json'), JSON.stringify(obj));
    writeFileSync(join(far, 'weights.safetensors'), readFileSync(join(SHIPPED, 'weights.safetensors')));
    const f = await run(['--model', far, '--system', BOX]);
    expect(f.code).toBe(1);
    expect(f.err).toBe(`error: ${join(far, 'model.json')}: "architecture.cutoff" is 1000 Å, outside the range 0.1 Å to 100 Å that any real model lies in`);
  });
});

describe('calc --backend webgpu', () => {
  it('gives the float64 CPU backend\'s energy, forces and stress to float32 accuracy (triclinic periodic fixture)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calc-gpu-'));
    const cpuJson = join(dir, 'cpu.json'), gpuJson = join(dir, 'gpu.json');
    const file = join(dir, 'triclinic.extxyz');
    const fixture = join(ROOT, 'test/fixtures/triclinic-pbc');
    const c = JSON.parse(readFileSync(join(fixture, 'case.json'), 'utf8'));
    const { writeExtXyz } = await import('../../src/io/xyz');
    writeFileSync(file, writeExtXyz([{
      numbers: Int32Array.from(c.inputs.numbers), positions: Float64Array.from(c.inputs.positions.flat()),
      cell: Float64Array.from(c.inputs.cell.flat()), pbc: c.inputs.pbc, charge: c.inputs.charge, spin: c.inputs.spin,
    }]));
    const gpu = await run(['--model', fixture, '--system', file, '--backend', 'webgpu', '--json', gpuJson]);
    // the fixture model predates "elements": its one warning says so
    expect(gpu.err).toMatch(/^warning: model [\w-]+ does not list the elements it was trained on[^\n]*$/);
    expect(gpu.code).toBe(0);
    expect(gpu.out).toMatch(/backend {2}webgpu \(float32, /);
    expect((await run(['--model', fixture, '--system', file, '--json', cpuJson])).code).toBe(0);
    const a = JSON.parse(readFileSync(cpuJson, 'utf8')), b = JSON.parse(readFileSync(gpuJson, 'utf8'));
    expect(Math.abs(b.energy - a.energy) / Math.abs(a.energy)).toBeLessThan(1e-5);
    const norm = (x: number[][]) => Math.hypot(...x.flat());
    const diff = (x: number[][], y: number[][]) => Math.hypot(...x.flat().map((v, i) => v - y.flat()[i]));
    expect(diff(b.forces, a.forces) / norm(a.forces)).toBeLessThan(1e-4);
    expect(diff(b.stress, a.stress) / norm(a.stress)).toBeLessThan(1e-4);
  });
});

describe('npm run calc (vite-node)', () => {
  it('receives its arguments through npm and vite-node and sets the exit code', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'calc-')), 'npm.json');
    const exec = promisify(execFile);
    const ok = await exec('npm', ['run', '--silent', 'calc', '--', '--model', modelDir, '--system', WATER, '--json', json], { cwd: ROOT });
    expect(ok.stdout).toMatch(/energy {3}-?\d+\.\d{10} eV/);
    expect(JSON.parse(readFileSync(json, 'utf8')).forces).toHaveLength(3);
    const failed = await exec('npm', ['run', '--silent', 'calc', '--', '--model', modelDir], { cwd: ROOT }).catch((e) => e);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('error: --system is required');
  });
});
