import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// WebGPU tests run on a CPU Vulkan driver (SwiftShader from Debian's chromium):
// pipeline creation alone can take a second, so timeouts are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    pool: 'forks',
    // Vitest's default is one fork per core less one: a single fork on CI's two cores, which leaves one core
    // idle through every single-threaded file (CPU runtime, I/O, model files). Test files are independent
    // (each writes only under its own mkdtemp), so two forks run side by side there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
      XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
    },
  },
});
