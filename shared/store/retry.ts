/**
 * Retries a store call (InfluxDB or the embedded store) with exponential backoff for as long as it
 * takes (p-retry): while the store is away the caller simply waits, and the bus keeps what the
 * stage has not committed.
 */
import pRetry from 'p-retry';
import type { Logger } from '../logging.ts';

export interface StoreRetryOptions {
  /** What is being retried, for the log line. */
  what: string;
  log: Logger;
  /** Longest wait between attempts. */
  maxDelayMs: number;
  /** After each failed attempt; throwing here gives up (e.g. the partition moved elsewhere). */
  onFailure?: (attempt: number) => void;
  /** Once a call that failed at least once has ended (succeeded or given up). */
  onWaitEnded?: () => void;
}

export async function retryStore<T>(fn: () => Promise<T>, o: StoreRetryOptions): Promise<T> {
  let failed = false;
  try {
    return await pRetry(fn, {
      forever: true,
      minTimeout: 200,
      maxTimeout: o.maxDelayMs,
      onFailedAttempt: (err) => {
        failed = true;
        o.log.warn({ attempt: err.attemptNumber, err: err.message }, `${o.what} failed; retrying`);
        o.onFailure?.(err.attemptNumber);
      },
    });
  } finally {
    if (failed) o.onWaitEnded?.();
  }
}
