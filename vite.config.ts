import { defineConfig } from 'vite';

// WGSL kernels are imported as strings (`import src from '../shaders/x.wgsl?raw'`),
// which works the same in the browser build, in vitest and in vite-node (CLI, bench).
export default defineConfig({
  root: '.',
  publicDir: 'public',
  server: { port: 5173, host: '127.0.0.1' },
  preview: { port: 4173, host: '127.0.0.1' },
  build: { target: 'es2022', outDir: 'dist', sourcemap: true },
  worker: { format: 'es' },
});
