// Reader and writer for the safetensors container (https://github.com/huggingface/safetensors):
//   8 bytes   little-endian u64 N = header length
//   N bytes   UTF-8 JSON: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..} }
//   rest      tensor bytes, row-major little-endian; offsets are relative to the start of this section.
// scaip-web stores float32 only; other dtypes are reported (not converted) so the user knows what to fix.

import type { Tensor } from './config';
import { ModelLoadError } from './errors';

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
 * Parses a safetensors file. Throws ModelLoadError if the header cannot be read (too short, truncated
 * header, bad JSON); problems with single tensors (wrong dtype, data past the end of the file) are
 * returned in `problems` so a caller can report them together with its own checks.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer, fileName = 'weights.safetensors'): SafetensorsContents {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const fatal = (problem: string): never => {
    throw new ModelLoadError([`${fileName}: ${problem}`]);
  };
  if (bytes.byteLength < 8) {
    fatal(`the file is truncated or not a safetensors file (${bytes.byteLength} bytes; the header length alone takes 8)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (high !== 0 || headerLength > bytes.byteLength - 8) {
    fatal(
      `the file is truncated or not a safetensors file: it declares a ${headerLength}-byte header but only ` +
        `${bytes.byteLength - 8} bytes follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fatal(`the header is not valid JSON (${(e as Error).message}); the file is damaged or not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fatal('the header is not a JSON object; the file is damaged or not a safetensors file');
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const problems: string[] = [];
  const tensors = new Map<string, SafetensorsEntry>();
  const metadata: Record<string, string> = {};
  const truncated: string[] = [];
  let neededBytes = 0;

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object') {
        for (const [k, v] of Object.entries(raw as Record<string, unknown>)) metadata[k] = String(v);
      }
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shapeOk =
      Array.isArray(entry?.shape) && entry.shape.every((d) => Number.isInteger(d) && (d as number) >= 0);
    const offsetsOk =
      Array.isArray(entry?.data_offsets) &&
      entry.data_offsets.length === 2 &&
      entry.data_offsets.every((d) => Number.isInteger(d) && (d as number) >= 0) &&
      (entry.data_offsets[0] as number) <= (entry.data_offsets[1] as number);
    if (typeof entry?.dtype !== 'string' || !shapeOk || !offsetsOk) {
      problems.push(`${fileName}: header entry for tensor ${name} is malformed (needs dtype, shape, data_offsets)`);
      continue;
    }
    const dtype = entry.dtype;
    const shape = entry.shape as number[];
    const [begin, end] = entry.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    const tensor: SafetensorsEntry = { dtype, shape, data: null };
    tensors.set(name, tensor);
    neededBytes = Math.max(neededBytes, end);

    const itemBytes = DTYPE_BYTES[dtype];
    if (itemBytes === undefined) {
      problems.push(`${fileName}: tensor ${name} has unknown dtype "${dtype}"`);
      continue;
    }
    if (end - begin !== count * itemBytes) {
      problems.push(
        `${fileName}: tensor ${name} has shape ${formatShape(shape)} (${count * itemBytes} bytes of ${dtype}) ` +
          `but its data_offsets span ${end - begin} bytes`,
      );
      continue;
    }
    if (end > dataLength) {
      truncated.push(name);
      continue;
    }
    if (dtype !== 'F32') {
      problems.push(
        `${fileName}: tensor ${name} is ${dtype} (${DTYPE_WORDS[dtype] ?? dtype}) but scaip-web needs F32 (float32) ` +
          `weights; convert the file to float32`,
      );
      continue;
    }
    tensor.data = readFloat32(bytes, dataStart + begin, count);
  }
  if (truncated.length > 0) {
    const shown = truncated.slice(0, 5).join(', ') + (truncated.length > 5 ? `, … (${truncated.length} in all)` : '');
    problems.push(
      `${fileName}: the file is truncated: its header describes ${neededBytes} bytes of tensor data but only ` +
        `${dataLength} are present; tensors cut off: ${shown}`,
    );
  }
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
