import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests sit beside the code; integration and end-to-end tests live in test/.
    include: ['{services,shared,engines,simulators,deploy,bench}/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests stop and start the shared Kafka broker, so files run one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
