import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores in CI: stress suites spawn their own processes, so keep vitest's pool small.
    maxWorkers: 2,
    // In CI, also write machine-readable results: .ci/run prints the closing count from them.
    reporters: process.env['CI']
      ? ['default', ['json', { outputFile: '.ci/results.json' }]]
      : ['default'],
  },
});
