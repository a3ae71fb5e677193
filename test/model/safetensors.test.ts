import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/model/errors';
import { parseSafetensors, serializeSafetensors } from '../../src/model/safetensors';
import { safetensorsFromParts } from './helpers';

function loadError(fn: () => unknown): ModelLoadError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return e as ModelLoadError;
  }
  throw new Error('expected a ModelLoadError');
}

describe('safetensors', () => {
  it('refuses tensors whose byte ranges overlap (one tensor\'s offsets moved onto another\'s)', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const data = new Uint8Array(32);
    data.set(new Uint8Array(a.buffer), 0);
    data.set(new Uint8Array(b.buffer), 16);
    // b's offsets point at a's bytes: before, b loaded silently as [1, 2, 3, 4]
    const moved = safetensorsFromParts(
      { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } },
      data,
    );
    const e = loadError(() => parseSafetensors(moved, 'w.safetensors'));
    expect(e.problems).toContain("w.safetensors: tensor b's bytes [0, 16] overlap tensor a's [0, 16]");
    expect(e.problems).toContain('w.safetensors: 16 bytes after the last tensor belong to no tensor (the header describes 16 of 32)');
    // partly overlapping, with the bytes still all covered
    const partial = safetensorsFromParts(
      { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } },
      new Uint8Array(24),
    );
    expect(loadError(() => parseSafetensors(partial, 'w.safetensors')).problems).toEqual([
      "w.safetensors: tensor b's bytes [8, 24] overlap tensor a's [0, 16]",
    ]);
  });

  it('refuses gaps between tensors, trailing bytes, absurd header lengths and non-string metadata', () => {
    const gap = safetensorsFromParts(
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
      new Uint8Array(12),
    );
    expect(loadError(() => parseSafetensors(gap, 'w.safetensors')).problems).toEqual([
      'w.safetensors: bytes [4, 8] of the data section belong to no tensor (before tensor b)',
    ]);
    const trailing = safetensorsFromParts({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(5));
    expect(loadError(() => parseSafetensors(trailing, 'w.safetensors')).problems).toEqual([
      'w.safetensors: 1 bytes after the last tensor belong to no tensor (the header describes 4 of 5)',
    ]);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(4, 1, true); // 2^32-byte header
    expect(loadError(() => parseSafetensors(huge, 'w.safetensors')).message).toBe(
      'w.safetensors: the header length field says 4294967296 bytes; the format allows at most 100000000: the file is damaged or not a safetensors file',
    );
    const deepMeta = safetensorsFromParts({ __metadata__: { x: [[['deep']]] } }, new Uint8Array(0));
    expect(loadError(() => parseSafetensors(deepMeta, 'w.safetensors')).message).toMatch(/levels deep/);
    const meta = safetensorsFromParts({ __metadata__: { x: 3 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(parseSafetensors(meta, 'w.safetensors').problems).toEqual(['w.safetensors: __metadata__ value for "x" is not a string']);
    const proto = safetensorsFromParts({ a: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expect(loadError(() => parseSafetensors(proto, 'w.safetensors')).problems).toEqual([
      'w.safetensors: tensor a has unknown dtype "constructor", so its size cannot be checked',
    ]);
  });

  it('accepts zero-size tensors anywhere in the layout', () => {
    const file = safetensorsFromParts(
      {
        e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        z: { dtype: 'F32', shape: [2, 0], data_offsets: [8, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      },
      new Uint8Array(new Float32Array([1, 2]).buffer),
    );
    const parsed = parseSafetensors(file, 'w.safetensors');
    expect(parsed.problems).toEqual([]);
    expect(Array.from(parsed.tensors.get('b')!.data!)).toEqual([2]);
    expect(parsed.tensors.get('z')!.data!.length).toBe(0);
  });

  it('reads a hand-made file with an unaligned header (copying the data)', () => {
    const values = new Float32Array([1.5, -2.25, 3.125, 0, 1e-30, -7]);
    const file = safetensorsFromParts(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
        s: { dtype: 'F32', shape: [], data_offsets: [16, 20] },
        b: { dtype: 'F32', shape: [1], data_offsets: [20, 24] },
      },
      new Uint8Array(values.buffer),
    );
    const parsed = parseSafetensors(file, 'w.safetensors');
    expect(parsed.problems).toEqual([]);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect([...parsed.tensors.keys()]).toEqual(['a', 's', 'b']);
    expect(Array.from(parsed.tensors.get('a')!.data!)).toEqual([1.5, -2.25, 3.125, 0]);
    expect(parsed.tensors.get('s')!.shape).toEqual([]);
    expect(Array.from(parsed.tensors.get('s')!.data!)).toEqual([new Float32Array([1e-30])[0]]);
    expect(Array.from(parsed.tensors.get('b')!.data!)).toEqual([-7]);
  });

  it('round-trips serializeSafetensors with an 8-byte aligned header', () => {
    const tensors = new Map([
      ['x.weight', { shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['x.scale', { shape: [], data: Float32Array.from([0.5]) }],
    ]);
    const bytes = serializeSafetensors(tensors, { note: 'test' });
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    const parsed = parseSafetensors(bytes);
    expect(parsed.problems).toEqual([]);
    expect(parsed.metadata.note).toBe('test');
    expect(Array.from(parsed.tensors.get('x.weight')!.data!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parsed.tensors.get('x.weight')!.shape).toEqual([3, 2]);
    expect(Array.from(parsed.tensors.get('x.scale')!.data!)).toEqual([0.5]);
  });

  it('reports a file too short to hold a header, and a truncated header', () => {
    expect(loadError(() => parseSafetensors(new Uint8Array(5), 'w.safetensors')).message).toBe(
      'w.safetensors: the file is truncated or not a safetensors file (5 bytes; the header length alone takes 8)',
    );
    const full = serializeSafetensors(new Map([['a', { shape: [4], data: new Float32Array(4) }]]));
    expect(loadError(() => parseSafetensors(full.subarray(0, 20), 'w.safetensors')).message).toMatch(
      /^w\.safetensors: the file is truncated or not a safetensors file: it declares a \d+-byte header but 12 bytes follow$/,
    );
  });

  it('reports truncated tensor data naming the tensors cut off', () => {
    const full = serializeSafetensors(
      new Map([
        ['first', { shape: [4], data: new Float32Array(4) }],
        ['second', { shape: [4], data: new Float32Array(4) }],
      ]),
    );
    // A truncated file is refused whole: no tensor of it is returned.
    expect(loadError(() => parseSafetensors(full.subarray(0, full.length - 6), 'w.safetensors')).problems).toEqual([
      'w.safetensors: the file is truncated: its header describes 32 bytes of tensor data but only 26 are present; tensors cut off: second',
    ]);
  });

  it('reports F16 and F64 tensors as needing float32', () => {
    const file = safetensorsFromParts(
      {
        h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    );
    expect(parseSafetensors(file, 'w.safetensors').problems).toEqual([
      'w.safetensors: tensor h is F16 (float16) but scaip-web needs F32 (float32) weights; convert the file to float32',
      'w.safetensors: tensor d is F64 (float64) but scaip-web needs F32 (float32) weights; convert the file to float32',
    ]);
  });

  it('reports offsets that disagree with the shape, and a header that is not JSON', () => {
    const file = safetensorsFromParts({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(loadError(() => parseSafetensors(file, 'w.safetensors')).problems).toEqual([
      'w.safetensors: tensor a has shape [3] (12 bytes of F32) but its data_offsets [0, 8] span 8 bytes',
    ]);
    const junk = new Uint8Array(16);
    new DataView(junk.buffer).setUint32(0, 8, true);
    junk.set(new TextEncoder().encode('{"a": [}'), 8);
    expect(loadError(() => parseSafetensors(junk, 'w.safetensors')).message).toMatch(
      /^w\.safetensors: the header is not valid JSON/,
    );
  });
});

const ROOT = join(__dirname, '..', '..');
describe('safetensors interchange with the PyTorch side', () => {
  it('files written here read back identically in training/scaip/safetensors.py', () => {
    const tensors = new Map([
      ['backbone.w', { shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 1e-38, -0, 7e30]) }],
      ['backbone.scale', { shape: [], data: Float32Array.from([0.3]) }],
    ]);
    const path = join(mkdtempSync(join(tmpdir(), 'st-')), 'w.safetensors');
    writeFileSync(path, serializeSafetensors(tensors, { source: 'ts' }));
    const script = [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(join(ROOT, 'training'))})`,
      'from scaip.safetensors import load_file',
      't = load_file(sys.argv[1])',
      'print(json.dumps({k: {"shape": list(v.shape), "dtype": str(v.dtype), "data": v.double().flatten().tolist()} for k, v in t.items()}))',
    ].join('\n');
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
    const got = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8', env }));
    expect(Object.keys(got).sort()).toEqual(['backbone.scale', 'backbone.w']);
    for (const [name, t] of tensors) {
      expect(got[name].shape).toEqual(t.shape);
      expect(got[name].dtype).toBe('torch.float32');
      expect(got[name].data).toEqual(Array.from(t.data));
    }
  });
});
