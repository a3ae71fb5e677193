// Node only: install Dawn's GPU object as navigator.gpu before src/gpu/device.ts acquires a device.
// Why: acquireDevice() keeps no reference to the object that `create()` returns; once the garbage collector
// frees it, Dawn's instance goes away under a live device and the process aborts at the next submit or map
// (std::system_error / segfault, seen under allocation-heavy MD runs). Held on globalThis it lives as long as
// the process. Harmless in browsers (navigator.gpu already exists) and once device.ts keeps the reference.
export async function installNodeGpu(dawnOptions: string[] = []): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return;
  const name = 'webgpu';
  const mod = (await import(/* @vite-ignore */ name)) as { create: (o: string[]) => unknown; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = mod.create(dawnOptions);
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}
