/**
 * Preloaded into `npm start` by a test (NODE_OPTIONS=--import): throws an uncaught error on the
 * main thread a few seconds after start, as a bug would, so the test can see where it is reported.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.SMARTCITY_TEST_UNCAUGHT_AFTER_MS) {
  setTimeout(() => {
    throw new Error('injected fault: an uncaught error on the main thread');
  }, Number(process.env.SMARTCITY_TEST_UNCAUGHT_AFTER_MS)).unref();
}
