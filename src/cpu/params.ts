// Temporary alias: src/gpu/blocks/context.ts, which a change in progress holds, imports these types from here;
// remove once it imports src/model/params.ts.
export type { AttentionParams, FfnParams, HeadParams, LinearParams } from '../model/params';
