/**
 * The poison-pill policy, record by record: handling one record may throw (a bug, an input nobody
 * foresaw); it is tried `attempts` times, then set aside with the error so the caller can
 * dead-letter it with its source offset — and the batch, the partition and the stage go on.
 */
import type { BusRecord } from '../bus/bus.ts';

export interface PoisonedRecord {
  record: BusRecord;
  error: string;
}

export interface EachResult<T> {
  /** One result per record that was handled, in order. */
  results: { record: BusRecord; value: T }[];
  poisoned: PoisonedRecord[];
}

export const DEFAULT_RECORD_ATTEMPTS = 3;

export function handleEach<T>(records: BusRecord[], handle: (record: BusRecord) => T, attempts = DEFAULT_RECORD_ATTEMPTS): EachResult<T> {
  const out: EachResult<T> = { results: [], poisoned: [] };
  for (const record of records) {
    let lastError: unknown;
    let done = false;
    for (let attempt = 1; attempt <= attempts && !done; attempt++) {
      try {
        out.results.push({ record, value: handle(record) });
        done = true;
      } catch (err) {
        lastError = err;
      }
    }
    if (!done) out.poisoned.push({ record, error: describeError(lastError) });
  }
  return out;
}

/** An exception as one short line, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  try {
    return `thrown: ${String(err)}`.slice(0, 300);
  } catch {
    return 'thrown: (unprintable value)';
  }
}
