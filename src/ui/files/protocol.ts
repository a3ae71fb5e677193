// Messages between the page and the structure parser worker: one request per file, answered in order.

import type { ParseOutcome } from './parseStructure';

export interface ParseRequest {
  id: number;
  fileName: string;
  /** The file itself (a File or Blob is passed by reference: its bytes are read in the worker). */
  blob: Blob;
  limit: number;
}

export interface ParseReply {
  id: number;
  outcome: ParseOutcome;
}
