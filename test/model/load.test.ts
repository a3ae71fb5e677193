import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/model/errors';
import { loadModelFromFiles, loadModelFromUrl } from '../../src/model/load';
import { loadModelFromPath } from '../../src/model/loadNode';
import { validateModelConfig } from '../../src/model/modelJson';
import { serializeSafetensors } from '../../src/model/safetensors';
import { expectedTensors } from '../../src/model/weights';
import { randomTensors, tinyConfigObject } from './helpers';

const configObject = tinyConfigObject();
const config = validateModelConfig(configObject);
const tensors = randomTensors(config, 7);
const weightBytes = serializeSafetensors(tensors);

/** Writes a model directory; `edit` may change the config object or the weight bytes. */
function writeModel(edit: { config?: (o: Record<string, any>) => void; weights?: Uint8Array } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  const obj = structuredClone(configObject);
  edit.config?.(obj);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(obj, null, 2));
  writeFileSync(join(dir, obj.weights_file), edit.weights ?? weightBytes);
  return dir;
}

async function loadError(p: Promise<unknown>): Promise<ModelLoadError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return e as ModelLoadError;
  }
  throw new Error('expected a ModelLoadError');
}

function expectSameModel(loaded: Awaited<ReturnType<typeof loadModelFromPath>>) {
  expect(loaded.config).toEqual(config);
  expect(loaded.tensors.size).toBe(expectedTensors(config).length);
  for (const [name, t] of tensors) {
    expect(loaded.tensors.get(name)!.shape, name).toEqual(t.shape);
    expect(Array.from(loaded.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
  }
}

describe('loadModelFromPath (Node fs)', () => {
  it('loads from a directory and from the model.json path', async () => {
    const dir = writeModel();
    expectSameModel(await loadModelFromPath(dir));
    expectSameModel(await loadModelFromPath(join(dir, 'model.json')));
  });

  it('refuses a weights_file that is not a plain file next to model.json (separators, "..", absolute, a directory, an escaping link)', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    writeFileSync(join(outside, 'secret.safetensors'), weightBytes);
    const cases: [string, RegExp][] = [
      ['w/tiny.safetensors', /"weights_file" "w\/tiny\.safetensors" contains a path separator/],
      ['../outside/secret.safetensors', /contains a path separator/],
      [join(outside, 'secret.safetensors'), /contains a path separator/],
      ['..\\secret.safetensors', /contains a path separator/],
      ['..', /"weights_file" "\.\." is not a file name/],
      ['C:secret.safetensors', /is a drive path/],
    ];
    for (const [name, message] of cases) {
      const dir = mkdtempSync(join(tmpdir(), 'model-'));
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...configObject, weights_file: name }));
      expect((await loadError(loadModelFromPath(dir))).message, name).toMatch(message);
    }
    // a directory with the weights' name
    const dirCase = mkdtempSync(join(tmpdir(), 'model-'));
    mkdirSync(join(dirCase, 'weights.safetensors'));
    writeFileSync(join(dirCase, 'model.json'), JSON.stringify(configObject));
    expect((await loadError(loadModelFromPath(dirCase))).message).toMatch(/weights_file "weights\.safetensors" is a directory/);
    // a link out of the model's directory is refused; a link inside it is followed
    const linkCase = mkdtempSync(join(tmpdir(), 'model-'));
    writeFileSync(join(linkCase, 'model.json'), JSON.stringify(configObject));
    symlinkSync(join(outside, 'secret.safetensors'), join(linkCase, 'weights.safetensors'));
    expect((await loadError(loadModelFromPath(linkCase))).message).toMatch(/is a link to .*secret\.safetensors, outside the model's directory/);
    const inside = mkdtempSync(join(tmpdir(), 'model-'));
    writeFileSync(join(inside, 'model.json'), JSON.stringify(configObject));
    writeFileSync(join(inside, 'real.safetensors'), weightBytes);
    symlinkSync('real.safetensors', join(inside, 'weights.safetensors'));
    expect((await loadModelFromPath(inside)).tensors.size).toBe(tensors.size);
  });

  it('names the path when the model, its model.json or its weights are missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    expect((await loadError(loadModelFromPath(join(dir, 'nope')))).message).toBe(`${join(dir, 'nope')}: no such file or directory`);
    expect((await loadError(loadModelFromPath(dir))).message).toBe(`${dir}: the directory has no model.json`);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(configObject));
    expect((await loadError(loadModelFromPath(dir))).message).toBe(
      `${join(dir, 'model.json')}: weights_file "weights.safetensors" not found (looked for ${join(dir, 'weights.safetensors')})`,
    );
  });

  it('reports a truncated weights file', async () => {
    const dir = writeModel({ weights: weightBytes.subarray(0, weightBytes.length - 100) });
    const e = await loadError(loadModelFromPath(dir));
    expect(e.problems.some((p) => p.startsWith(`${join(dir, 'weights.safetensors')}: the file is truncated: its header describes`))).toBe(true);
  });

  it('reports config problems before looking at the weights', async () => {
    const dir = writeModel({ config: (o) => (o.architecture.num_layer = 2) });
    const e = await loadError(loadModelFromPath(dir));
    expect(e.problems).toEqual([`${join(dir, 'model.json')}: unknown key "architecture.num_layer" (did you mean "num_layers"?)`]);
  });

  it('reports a config that disagrees with the weights, tensor by tensor', async () => {
    const dir = writeModel({ config: (o) => Object.assign(o.architecture, { hidden_size: 16, num_heads: 4 }) });
    const e = await loadError(loadModelFromPath(dir));
    expect(e.problems).toContain(
      `${join(dir, 'weights.safetensors')}: tensor backbone.input_block.node_norm.weight has shape [16] but the config needs [32]`,
    );
    expect(e.message).toMatch(/^\d+ problems with the model:\n {2}- /);
  });
});

describe('loadModelFromFiles (File objects)', () => {
  const json = JSON.stringify(configObject);

  it('loads from model.json + .safetensors files', async () => {
    const files = [new File([weightBytes], 'weights.safetensors'), new File([json], 'model.json')];
    expectSameModel(await loadModelFromFiles(files));
  });

  it('accepts a differently named single weights file', async () => {
    const files = [new File([json], 'my-model.json'), new File([weightBytes], 'renamed.safetensors')];
    expectSameModel(await loadModelFromFiles(files));
  });

  it('says which file is missing', async () => {
    expect((await loadError(loadModelFromFiles([new File([weightBytes], 'weights.safetensors')]))).message).toBe(
      'no model config among the files given (weights.safetensors): add model.json',
    );
    expect((await loadError(loadModelFromFiles([new File([json], 'model.json')]))).message).toBe(
      'model.json needs the weights file "weights.safetensors", which was not among the files given (model.json)',
    );
  });

  it('reports NaN weights with the file name the user gave', async () => {
    const bad = new Map(tensors);
    const t = tensors.get('output_heads.energyandforcehead.head.energy_ffn.1.0.bias')!;
    bad.set('output_heads.energyandforcehead.head.energy_ffn.1.0.bias', { shape: t.shape, data: Float32Array.from([Number.NaN]) });
    const e = await loadError(loadModelFromFiles([new File([json], 'model.json'), new File([serializeSafetensors(bad)], 'w.safetensors')]));
    expect(e.problems).toEqual([
      'w.safetensors: tensor output_heads.energyandforcehead.head.energy_ffn.1.0.bias contains 1 NaN value (first at flat index 0)',
    ]);
  });
});

describe('loadModelFromUrl (fetch)', () => {
  let server: Server;
  let base = '';
  const dir = writeModel();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').replace(/^\/models\/tiny\//, '');
      try {
        const body = readFileSync(join(dir, path));
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      } catch {
        res.writeHead(404, 'Not Found');
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('loads from the model.json URL and from the directory URL, reporting progress', async () => {
    expectSameModel(await loadModelFromUrl(`${base}/models/tiny/model.json`));
    const progress: [number, number | null][] = [];
    expectSameModel(await loadModelFromUrl(`${base}/models/tiny/`, { onProgress: (l, t) => progress.push([l, t]) }));
    expect(progress.at(-1)).toEqual([weightBytes.length, weightBytes.length]);
  });

  it('reports HTTP errors with the URL', async () => {
    expect((await loadError(loadModelFromUrl(`${base}/models/none/model.json`))).message).toBe(
      `${base}/models/none/model.json: could not download the model config (HTTP 404 Not Found)`,
    );
  });
});
