/** A thread for `thread-calls.test.ts`: echoes, fails in the ways SQLite does, and dies on request. */
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
  die: () => process.exit(3),
  /** Sends `x` to every caller as a notice. */
  shout: (x: string) => notify(x),
};

const notify = answerCalls(testCalls);
