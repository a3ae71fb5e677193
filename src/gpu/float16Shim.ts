// webgpu-utils 2 builds its type tables with Float16Array at import time; Node 20 lacks it.
// We never use f16 views, so a stand-in class is enough. Import this before webgpu-utils.
const g = globalThis as { Float16Array?: unknown };
if (typeof g.Float16Array === 'undefined') g.Float16Array = class Float16Array extends Uint16Array {};
export {};
