import { defineConfig } from 'vitest/config';

// Browser end-to-end tests (scripts/e2e.sh): one file, run serially, generous timeouts because
// WebGPU and WebGL both run on SwiftShader (CPU) in CI.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 400_000,
    hookTimeout: 180_000,
  },
});
