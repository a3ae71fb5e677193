// Seeded fuzz test of the model loader (issue 12): a few hundred mutated model.json + safetensors pairs.
// Every load either throws ModelLoadError or returns a model whose every tensor equals the original's (no
// mutation of the config or of the safetensors header may make it load other weights); every load is bounded
// in time. Mutations of the tensor bytes themselves cannot be detected by any format check (the file has no
// checksum), so for those only "no crash, bounded time" is asserted.
import { describe, expect, it } from 'vitest';
import type { LoadedModel, Tensor } from '../../src/model/config';
import { ModelLoadError } from '../../src/model/errors';
import { assembleModel } from '../../src/model/load';
import { validateModelConfig } from '../../src/model/modelJson';
import { serializeSafetensors } from '../../src/model/safetensors';
import { randomTensors, safetensorsFromParts, tinyConfigObject } from './helpers';
import { rng } from '../helpers/systems';

/** The tests' seeded generator (mulberry32), so a failure reproduces from its case number. */
function generator(seed: number) {
  const next = rng(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof generator>;

const baseObject = tinyConfigObject();
baseObject.elements = [1, 6, 8];
baseObject.normalization.element_references = [0, -13.6, 0, 0, 0, 0, -1029, 0, -2041];
const baseConfig = validateModelConfig(baseObject);
const baseTensors = randomTensors(baseConfig, 5);
const baseText = JSON.stringify(baseObject, null, 2);
const baseBytes = serializeSafetensors(baseTensors, { format: 'pt' });
const headerLength = new DataView(baseBytes.buffer).getUint32(0, true);
const baseHeader = JSON.parse(new TextDecoder().decode(baseBytes.subarray(8, 8 + headerLength))) as Record<string, any>;

/** Values a field may be replaced with: wrong types, extremes, deep and long things. */
function oddValue(rng: Rng): unknown {
  const deep = (d: number): unknown => (d === 0 ? 1 : [deep(d - 1)]);
  const choices: (() => unknown)[] = [
    () => 1e9, () => -1, () => 0, () => 1e308, () => -1e308, () => 0.5, () => 2 ** 53, () => 3,
    () => 'x', () => '', () => null, () => true, () => [], () => [1, 2], () => ({}), () => ({ a: 1 }),
    () => deep(40 + rng.int(100)), () => 'k'.repeat(70000), () => Array.from({ length: 3000 }, (_, i) => i),
    () => [0, -1e9], () => [1, 1], () => [8, 1], () => [119], () => 'w/../x.safetensors', () => '..',
  ];
  return rng.pick(choices)();
}

/** Applies one random mutation to a copy of the config object, or to its text. */
function mutateConfig(rng: Rng): string {
  const obj = structuredClone(baseObject) as Record<string, any>;
  const sections = ['', 'architecture', 'heads', 'normalization'];
  const section = rng.pick(sections);
  const target = section === '' ? obj : obj[section];
  const keys = Object.keys(target);
  switch (rng.int(7)) {
    case 0: target[rng.pick(keys)] = oddValue(rng); break;
    case 1: delete target[rng.pick(keys)]; break;
    case 2: target[rng.pick(['extra', 'hidden_sise', 'x'.repeat(1 + rng.int(70000)), '__proto__x'])] = oddValue(rng); break;
    case 3: obj[rng.pick(['architecture', 'heads', 'normalization', 'provenance'])] = oddValue(rng); break;
    case 4: {
      // text-level: truncate, flip a character, or nest the whole document
      const text = JSON.stringify(obj);
      const r = rng.int(3);
      if (r === 0) return text.slice(0, rng.int(text.length));
      if (r === 1) {
        const i = rng.int(text.length);
        return text.slice(0, i) + String.fromCharCode(32 + rng.int(95)) + text.slice(i + 1);
      }
      const depth = 1 + rng.int(20000);
      return '['.repeat(depth) + text + ']'.repeat(depth);
    }
    case 5: target[rng.pick(keys)] = typeof target[rng.pick(keys)] === 'number' ? -target[rng.pick(keys)] : oddValue(rng); break;
    default: {
      // many keys
      for (let i = 0; i < 1 + rng.int(5000); i++) target[`k${i}`] = i;
    }
  }
  return JSON.stringify(obj);
}

/** Applies one random mutation to the weights file; `data` = only tensor bytes changed (undetectable). */
function mutateWeights(rng: Rng): { bytes: Uint8Array; dataOnly: boolean } {
  const data = baseBytes.subarray(8 + headerLength);
  const header = structuredClone(baseHeader);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = rng.pick(names);
  switch (rng.int(10)) {
    case 0: { // offsets moved onto another tensor's
      const other = header[rng.pick(names)];
      header[name].data_offsets = [...other.data_offsets];
      return { bytes: safetensorsFromParts(header, data), dataOnly: false };
    }
    case 1: { // offsets shifted
      const d = rng.pick([-8, -4, -1, 1, 4, 8, 1e6, 2 ** 40]);
      header[name].data_offsets = header[name].data_offsets.map((x: number, i: number) => (rng.int(2) || i === 1 ? x + d : x));
      return { bytes: safetensorsFromParts(header, data), dataOnly: false };
    }
    case 2: header[name].dtype = rng.pick(['F16', 'F64', 'I32', 'BF16', 'constructor', 'toString', '', 'F32 ']); break;
    case 3: header[name].shape = rng.pick([[1e9, 1e9], [-1], [0], [2 ** 60], 'x', [[1]], [1, 2, 3, 4, 5, 6, 7, 8, 9]]); break;
    case 4: delete header[name]; break;
    case 5: header[name] = oddValue(rng); break;
    case 6: { // byte flip in the header text or the length field
      const bytes = safetensorsFromParts(header, data);
      const i = rng.int(8 + headerLength);
      bytes[i] ^= 1 << rng.int(8);
      return { bytes, dataOnly: false };
    }
    case 7: { // truncation or trailing bytes
      const bytes = safetensorsFromParts(header, data);
      if (rng.int(2)) return { bytes: bytes.subarray(0, rng.int(bytes.length)), dataOnly: false };
      const longer = new Uint8Array(bytes.length + 1 + rng.int(64));
      longer.set(bytes);
      return { bytes: longer, dataOnly: false };
    }
    case 8: { // a byte of tensor data: a different but valid file (or NaN/Inf, which the loader refuses)
      const bytes = Uint8Array.from(baseBytes);
      const i = 8 + headerLength + rng.int(data.length);
      bytes[i] = rng.int(256);
      return { bytes, dataOnly: true };
    }
    default: { // header length field set to an arbitrary u64
      const bytes = Uint8Array.from(baseBytes);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, rng.int(2 ** 32), true);
      view.setUint32(4, rng.pick([0, 0, 1, 2 ** 32 - 1]), true);
      return { bytes, dataOnly: false };
    }
  }
  return { bytes: safetensorsFromParts(header, data), dataOnly: false };
}

function sameTensors(model: LoadedModel, original: Map<string, Tensor>): string | null {
  for (const [name, t] of model.tensors) {
    const o = original.get(name);
    if (!o) return `tensor ${name} is not in the original`;
    if (t.shape.join() !== o.shape.join()) return `tensor ${name} shape ${t.shape} vs ${o.shape}`;
    for (let i = 0; i < o.data.length; i++) if (!Object.is(t.data[i], o.data[i])) return `tensor ${name}[${i}] differs`;
  }
  return null;
}

/** Loads, classifying the outcome; anything but ModelLoadError fails the test with the case number. */
function attempt(label: string, text: string, bytes: Uint8Array): { model: LoadedModel | null; ms: number } {
  const t0 = performance.now();
  try {
    const model = assembleModel(text, bytes);
    return { model, ms: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw new Error(`${label}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    expect(e.problems.length, label).toBeGreaterThan(0);
    // messages stay readable: no 64 KiB key or 20,000-deep array echoed back
    expect(e.message.length, label).toBeLessThan(20000);
    return { model: null, ms: performance.now() - t0 };
  }
}

describe('model loader fuzz (seeded)', () => {
  it('the unmutated pair loads and equals the original', () => {
    const model = assembleModel(baseText, baseBytes);
    expect(model.tensors.size).toBe(baseTensors.size);
    expect(sameTensors(model, baseTensors)).toBeNull();
  });

  it('400 mutated model.json files: only ModelLoadError, never other weights, each load bounded', () => {
    const rng = generator(20261202);
    let refused = 0, loaded = 0, slowest = 0;
    for (let c = 0; c < 400; c++) {
      const text = mutateConfig(rng);
      const { model, ms } = attempt(`config case ${c}`, text, baseBytes);
      slowest = Math.max(slowest, ms);
      expect(ms, `config case ${c}`).toBeLessThan(1000);
      if (model) {
        loaded++;
        expect(sameTensors(model, baseTensors), `config case ${c}`).toBeNull();
      } else refused++;
    }
    // the mutations reach both outcomes (a fuzz that only ever fails parsing tests little)
    expect(refused).toBeGreaterThan(250);
    expect(loaded).toBeGreaterThan(5);
    expect(slowest).toBeLessThan(1000);
  });

  it('400 mutated safetensors files: only ModelLoadError; a header mutation never loads other weights', () => {
    const rng = generator(777);
    let refused = 0, loaded = 0, dataCases = 0;
    for (let c = 0; c < 400; c++) {
      const { bytes, dataOnly } = mutateWeights(rng);
      const { model, ms } = attempt(`weights case ${c}`, baseText, bytes);
      expect(ms, `weights case ${c}`).toBeLessThan(1000);
      if (dataOnly) { dataCases++; continue; }
      if (model) {
        loaded++;
        expect(sameTensors(model, baseTensors), `weights case ${c}`).toBeNull();
      } else refused++;
    }
    expect(refused).toBeGreaterThan(250);
    expect(dataCases).toBeGreaterThan(10);
    expect(loaded + refused + dataCases).toBe(400);
  });
});
