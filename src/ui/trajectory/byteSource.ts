// Random access to a file's bytes without reading it whole: a File or Blob in the browser's worker, the same
// Blob in Node (fs.openAsBlob) for tests and the benchmark.

export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end) of the file. */
  read(start: number, end: number): Promise<Uint8Array>;
}

export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}
