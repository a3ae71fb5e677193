// Reader and writer for the safetensors container (https://github.com/huggingface/safetensors):
//   8 bytes   little-endian u64 N = header length
//   N bytes   UTF-8 JSON: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..} }
//   rest      tensor bytes, row-major little-endian; offsets are relative to the start of this section.
// scaip-web stores float32 only; other dtypes are reported (not converted) so the user knows what to fix.

import type { Tensor } from './config';
import { ModelLoadError } from './errors';
import { scanJsonLimits } from './jsonLimits';

/** Bytes per element of every dtype the format defines (to check offsets even for dtypes we reject). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

const DTYPE_WORDS: Record<string, string> = {
  F64: 'float64', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8',
  U8: 'uint8', BOOL: 'bool',
};

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Float32 values, or null when the tensor could not be read (wrong dtype, out of bounds). */
  data: Float32Array | null;
}

export interface SafetensorsContents {
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, SafetensorsEntry>;
  /** Per-tensor problems (dtype, bounds); the header itself was readable. */
  problems: string[];
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readFloat32(bytes: Uint8Array, start: number, count: number): Float32Array {
  const absolute = bytes.byteOffset + start;
  if (isLittleEndian && absolute % 4 === 0) {
    // Zero-copy view: safetensors pads the header so offsets are normally aligned.
    return new Float32Array(bytes.buffer as ArrayBuffer, absolute, count);
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, absolute, count * 4);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Largest header the format allows (the reference implementation refuses N > 100,000,000 as
 * HeaderTooLarge); a real header is a few hundred bytes per tensor.
 */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses a safetensors file. Throws ModelLoadError if the header cannot be read (too short, truncated or
 * oversized header, bad JSON) or if the tensors' byte ranges break the format's layout rules (each range
 * matches dtype × shape, and sorted by offset the ranges tile the data section exactly: in bounds, no
 * overlap, no gap, no trailing bytes). Such a file cannot be trusted
 * for any tensor. Problems with single tensors (dtype other than F32, malformed entry) are returned in
 * `problems` so a caller can report them together with its own checks.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer, fileName = 'weights.safetensors'): SafetensorsContents {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const fatal = (problem: string | string[]): never => {
    throw new ModelLoadError((Array.isArray(problem) ? problem : [problem]).map((p) => `${fileName}: ${p}`));
  };
  if (bytes.byteLength < 8) {
    fatal(`the file is truncated or not a safetensors file (${bytes.byteLength} bytes; the header length alone takes 8)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength > MAX_HEADER_BYTES) {
    fatal(`the header length field says ${headerLength} bytes; the format allows at most ${MAX_HEADER_BYTES}: the file is damaged or not a safetensors file`);
  }
  if (headerLength < 2 || headerLength > bytes.byteLength - 8) {
    fatal(
      `the file is truncated or not a safetensors file: it declares a ${headerLength}-byte header but ` +
        `${bytes.byteLength - 8} bytes follow`,
    );
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    // The header is a flat object of flat entries; anything nesting deeper is not a safetensors header.
    const tooDeep = scanJsonLimits(text, { maxBytes: MAX_HEADER_BYTES, maxDepth: 4, maxKeyLength: 4096 });
    if (tooDeep) fatal(`the header is not a safetensors header: ${tooDeep}`);
    header = JSON.parse(text);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    fatal(`the header is not valid JSON (${(e as Error).message}); the file is damaged or not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fatal('the header is not a JSON object; the file is damaged or not a safetensors file');
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const problems: string[] = [];
  const layout: string[] = [];
  const tensors = new Map<string, SafetensorsEntry>();
  const metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  const toRead: { tensor: SafetensorsEntry; begin: number; count: number }[] = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push(`${fileName}: __metadata__ must be an object of strings`);
        continue;
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v === 'string') metadata[k] = v;
        else problems.push(`${fileName}: __metadata__ value for "${k.slice(0, 40)}" is not a string`);
      }
      continue;
    }
    const entry = (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as {
      dtype?: unknown; shape?: unknown; data_offsets?: unknown;
    };
    const shapeOk =
      Array.isArray(entry.shape) && entry.shape.length <= 8 &&
      entry.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
    const offsetsOk =
      Array.isArray(entry.data_offsets) &&
      entry.data_offsets.length === 2 &&
      entry.data_offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) &&
      (entry.data_offsets[0] as number) <= (entry.data_offsets[1] as number);
    if (typeof entry.dtype !== 'string' || !shapeOk || !offsetsOk) {
      // Without a usable byte range nothing about the layout can be trusted.
      layout.push(`header entry for tensor ${name.slice(0, 200)} is malformed (needs dtype, shape of at most 8 whole numbers, data_offsets [begin, end] with begin ≤ end)`);
      continue;
    }
    const dtype = entry.dtype;
    const shape = entry.shape as number[];
    const [begin, end] = entry.data_offsets as [number, number];
    ranges.push({ name, begin, end });
    const count = shape.reduce((a, b) => a * b, 1);
    const tensor: SafetensorsEntry = { dtype, shape, data: null };
    tensors.set(name, tensor);

    const itemBytes = Object.hasOwn(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined;
    if (itemBytes === undefined) {
      layout.push(`tensor ${name} has unknown dtype "${dtype.slice(0, 20)}", so its size cannot be checked`);
      continue;
    }
    if (end - begin !== count * itemBytes) {
      layout.push(
        `tensor ${name} has shape ${formatShape(shape)} (${count * itemBytes} bytes of ${dtype}) ` +
          `but its data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
      );
      continue;
    }
    if (dtype !== 'F32') {
      problems.push(
        `${fileName}: tensor ${name} is ${dtype} (${DTYPE_WORDS[dtype] ?? dtype}) but scaip-web needs F32 (float32) ` +
          `weights; convert the file to float32`,
      );
      continue;
    }
    toRead.push({ tensor, begin, count });
  }

  // The format's layout rule: sorted by offset, the byte ranges tile the data section exactly.
  ranges.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let expected = 0;
  for (const r of ranges) {
    if (r.begin < expected) {
      const other = ranges.find((o) => o !== r && o.begin < r.end && r.begin < o.end);
      layout.push(
        `tensor ${r.name}'s bytes [${r.begin}, ${r.end}] overlap ${other ? `tensor ${other.name}'s [${other.begin}, ${other.end}]` : 'another tensor'}`,
      );
    } else if (r.begin > expected) {
      layout.push(`bytes [${expected}, ${r.begin}] of the data section belong to no tensor (before tensor ${r.name})`);
    }
    expected = Math.max(expected, r.end);
  }
  if (expected > dataLength) {
    const cut = ranges.filter((r) => r.end > dataLength).map((r) => r.name);
    const shown = cut.slice(0, 5).join(', ') + (cut.length > 5 ? `, … (${cut.length} in all)` : '');
    layout.push(
      `the file is truncated: its header describes ${expected} bytes of tensor data but only ` +
        `${dataLength} are present; tensors cut off: ${shown}`,
    );
  } else if (expected < dataLength) {
    layout.push(`${dataLength - expected} bytes after the last tensor belong to no tensor (the header describes ${expected} of ${dataLength})`);
  }
  if (layout.length > 0) {
    const SHOWN = 20;
    fatal([
      ...layout.slice(0, SHOWN),
      ...(layout.length > SHOWN ? [`… and ${layout.length - SHOWN} more layout problems`] : []),
    ]);
  }
  for (const { tensor, begin, count } of toRead) tensor.data = readFloat32(bytes, dataStart + begin, count);
  return { metadata, tensors, problems };
}

/**
 * Writes float32 tensors as a safetensors file (header padded with spaces to a multiple of 8 bytes,
 * tensors in the given order, each 8-byte aligned relative to the data section).
 */
export function serializeSafetensors(
  tensors: Map<string, Tensor> | Iterable<[string, Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array<ArrayBuffer> {
  const entries = Array.from(tensors instanceof Map ? tensors.entries() : tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`tensor ${name}: shape ${formatShape(t.shape)} holds ${count} values but data has ${t.data.length}`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += ' '.repeat(padded - headerBytes.length);
  headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++, pos += 4) view.setFloat32(pos, t.data[i], true);
  }
  return out;
}
