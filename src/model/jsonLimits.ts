// Bounds on JSON text checked before JSON.parse, shared by the model.json parser and the safetensors
// header reader: no input can make parsing, validation or an error message slow or deep.

/**
 * Limits on the JSON text itself, checked by a linear scan before JSON.parse: no input can then make
 * parsing, validation or error messages slow or deep (a 5,000-deep array, a 64 KiB key, a 100 MB file).
 * A real model.json is a few kB, nests 3 levels (provenance may nest a few more) and has short keys.
 */
export const MODEL_JSON_LIMITS = { maxBytes: 4 * 1024 * 1024, maxDepth: 32, maxKeyLength: 256 };

/**
 * Linear scan of JSON text for nesting depth and key (and string) lengths, before JSON.parse. Returns the
 * first problem or null. Strings are skipped with their escapes, so brackets inside strings do not count.
 */
export function scanJsonLimits(
  text: string,
  limits: { maxBytes: number; maxDepth: number; maxKeyLength: number } = MODEL_JSON_LIMITS,
): string | null {
  if (text.length > limits.maxBytes) {
    return `the text has ${text.length} characters, more than the ${limits.maxBytes} this file may have`;
  }
  // stack of containers: true = object (its strings alternate key/value), false = array
  const objectStack: boolean[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      const isKey = expectKey && objectStack.length > 0 && objectStack[objectStack.length - 1];
      if (isKey && i - start - 1 > limits.maxKeyLength) {
        return `a key at character ${start} is ${i - start - 1} characters long (at most ${limits.maxKeyLength})`;
      }
      expectKey = false;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      objectStack.push(c === 0x7b);
      if (objectStack.length > limits.maxDepth) {
        return `values nest more than ${limits.maxDepth} levels deep (at character ${i}); no field of this file needs that`;
      }
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      objectStack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = objectStack.length > 0 && objectStack[objectStack.length - 1];
    }
  }
  return null;
}
