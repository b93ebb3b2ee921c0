/**
 * The infrastructure-failure policy, batch by batch: when handling a batch or committing it fails
 * (the next hop is away, the disk is full), the same batch is tried again with backoff for as long
 * as this member still owns the partition — the stage never exits on it, and recovers by itself
 * when the cause goes. Nothing was committed, so retrying can only duplicate, never lose.
 */
import type { Logger } from '../logging.ts';
import { backoffMs, sleep } from '../time.ts';

export interface RetryBatchOptions {
  log: Logger;
  what: string;
  stillOwned: () => boolean;
  /** Longest wait between attempts. */
  maxDelayMs?: number;
  onFailure?: (err: Error, attempt: number) => void;
  /** While a batch is failing: true; once it went through (or was given up): false. */
  onFailing?: (failing: boolean) => void;
  /** Cuts a backoff wait short when the consumer stops. */
  signal?: AbortSignal;
}

/** Runs `step` until it succeeds; undefined when the partition was lost (its next owner replays it). */
export async function retryBatch<T>(step: () => Promise<T>, o: RetryBatchOptions): Promise<{ value: T } | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await step();
      if (attempt > 1) {
        o.onFailing?.(false);
        o.log.info({ attempts: attempt }, `${o.what} went through after failing`);
      }
      return { value };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      if (attempt === 1) o.onFailing?.(true);
      o.onFailure?.(e, attempt);
      const delay = backoffMs(attempt, o.maxDelayMs ?? 30_000);
      o.log.error({ err: e.message, attempt, retryInMs: delay }, `${o.what} failed; retrying the same batch`);
      await sleep(delay, o.signal);
      if (!o.stillOwned()) {
        o.onFailing?.(false);
        return undefined;
      }
    }
  }
}
