/** A thread for `thread-calls.test.ts`: echoes, fails in the ways SQLite does, and dies on request. */
import { ConfigError } from './config-error.ts';
import { answerCalls } from './thread-calls.ts';

export const testCalls = {
  echo: (x: unknown) => x,
  slow: async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  },
  failFull: () => {
    throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
  },
  failType: () => {
    throw new TypeError('Provided value cannot be bound to SQLite parameter 1.');
  },
  failListen: () => {
    throw Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:9102'), { code: 'EADDRINUSE', port: 9102 });
  },
  failConfig: () => {
    throw new ConfigError("invalid configuration: WRITE_BATCH_MAX='abc'");
  },
  die: () => process.exit(3),
  /** Sends `x` to every caller as a notice. */
  shout: (x: string) => notify(x),
};

const notify = answerCalls(testCalls);
