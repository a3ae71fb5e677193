// Checkpoint files: the engine's raw state as JSON with base64 blobs, so a resumed run continues bit for bit.
import type { EngineCheckpoint } from './types';

const FORMAT = 'scaip-web-md-checkpoint';

function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function serializeCheckpoint(ck: EngineCheckpoint): string {
  const blobs: Record<string, string> = {};
  for (const [k, v] of Object.entries(ck.blobs)) blobs[k] = toBase64(v);
  return JSON.stringify({ format: FORMAT, version: 1, ...ck, blobs });
}

export function parseCheckpoint(text: string, fileName = 'checkpoint'): EngineCheckpoint {
  let j: Record<string, unknown>;
  try { j = JSON.parse(text); } catch (e) { throw new Error(`${fileName}: not a checkpoint (invalid JSON: ${String(e)})`); }
  if (j.format !== FORMAT) throw new Error(`${fileName}: not an MD checkpoint (format is ${JSON.stringify(j.format)})`);
  if (j.version !== 1) throw new Error(`${fileName}: unsupported checkpoint version ${String(j.version)}`);
  for (const key of ['backend', 'step', 'settings', 'numbers', 'masses', 'molecules', 'pbc', 'blobs']) {
    if (!(key in j)) throw new Error(`${fileName}: checkpoint lacks "${key}"`);
  }
  const blobs: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(j.blobs as Record<string, string>)) blobs[k] = fromBase64(v);
  return {
    backend: j.backend as EngineCheckpoint['backend'], step: j.step as number, settings: j.settings as EngineCheckpoint['settings'],
    numbers: j.numbers as number[], masses: j.masses as number[], molecules: j.molecules as number[],
    pbc: j.pbc as EngineCheckpoint['pbc'], blobs,
  };
}
