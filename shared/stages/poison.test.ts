import { describe, expect, it } from 'vitest';
import type { BusRecord } from '../bus/bus.ts';
import { createLogger } from '../logging.ts';
import { DeadLetterBudget, deadLetter, deadLetterSchema, MAX_LISTED_REJECTIONS } from '../schemas/deadletter.ts';
import { REJECT } from '../schemas/rejections.ts';
import { writeIsolating } from './isolate.ts';
import { handleEach } from './poison.ts';
import { retryBatch } from './retry-batch.ts';

const rec = (offset: number, value: string): BusRecord => ({ offset: String(offset), key: null, value: Buffer.from(value), timestamp: '0' });

describe('handleEach (poison pill per record)', () => {
  it('sets aside a record whose handling throws every time, after the given attempts, and goes on', () => {
    let tries = 0;
    const out = handleEach([rec(1, 'a'), rec(2, 'boom'), rec(3, 'c')], (r) => {
      if (r.value!.toString() === 'boom') {
        tries++;
        throw new RangeError('Invalid time value');
      }
      return r.value!.toString().toUpperCase();
    });
    expect(out.results.map((x) => x.value)).toEqual(['A', 'C']);
    expect(out.poisoned).toEqual([{ record: rec(2, 'boom'), error: 'RangeError: Invalid time value' }]);
    expect(tries).toBe(3);
  });

  it('keeps a record that succeeds on a retry', () => {
    let n = 0;
    const out = handleEach([rec(1, 'x')], () => {
      if (n++ === 0) throw new Error('flaky');
      return 1;
    });
    expect(out.results).toHaveLength(1);
    expect(out.poisoned).toEqual([]);
  });

  it('describes whatever is thrown, even a value that cannot be printed', () => {
    const unprintable = { toString: () => { throw new Error('no'); } };
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a device-triggered bug may throw anything
    const out = handleEach([rec(1, 'x')], () => { throw unprintable; });
    expect(out.poisoned[0]?.error).toBe('thrown: (unprintable value)');
  });
});

describe('dead letters', () => {
  const source = { topic: 't', partition: 0, offset: '7' };

  it('is one record per source record, listing the first reasons and the original once', () => {
    const original = 'x'.repeat(65_000);
    const rejections = Array.from({ length: 32_700 }, (_, i) => ({ code: REJECT.FIELD_INVALID, field: '(reading)', reason: '(reading): expected object', index: i }));
    const built = deadLetter('normalize', { rejections, deviceId: 'd', source, original });
    const value = deadLetterSchema.parse(JSON.parse(built.message.value as string));
    expect(value.rejectionCount).toBe(32_700);
    expect(value.rejections).toHaveLength(MAX_LISTED_REJECTIONS);
    expect(value.original).toBe(original);
    expect(Buffer.byteLength(built.message.value as string)).toBeLessThan(original.length + 4000);
  });

  it("leaves the original out beyond a device's byte budget, and counts it; another device keeps its own budget", () => {
    let now = 0;
    const budget = new DeadLetterBudget(1000, 10_000, () => now);
    const original = 'y'.repeat(4000);
    const kept = [1, 2, 3].map(() => deadLetter('normalize', { rejections: [], deviceId: 'noisy', source, original }, budget).omittedBytes);
    expect(kept).toEqual([0, 0, 4000]);
    expect(deadLetter('normalize', { rejections: [], deviceId: 'quiet', source, original }, budget).omittedBytes).toBe(0);
    const dropped = deadLetterSchema.parse(JSON.parse(deadLetter('normalize', { rejections: [], deviceId: 'noisy', source, original }, budget).message.value as string));
    expect(dropped).toMatchObject({ original: '', originalOmittedBytes: 4000 });
    now = 4000; // refilled
    expect(deadLetter('normalize', { rejections: [], deviceId: 'noisy', source, original }, budget).omittedBytes).toBe(0);
  });
});

describe('writeIsolating', () => {
  const refusal = Object.assign(new Error('field type conflict'), { statusCode: 400 });
  it('writes everything but the points the store refuses', async () => {
    const stored: number[] = [];
    const refused = await writeIsolating(
      [1, 2, 3, 4, 5, 6, 7],
      async (ps) => {
        if (ps.includes(5)) throw refusal;
        stored.push(...ps);
      },
      (e) => (e as { statusCode?: number }).statusCode === 400,
    );
    expect(refused).toEqual([{ point: 5, error: 'Error: field type conflict' }]);
    expect(stored.sort()).toEqual([1, 2, 3, 4, 6, 7]);
  });

  it('throws a failure that is not a refusal (the store away) for the caller to retry', async () => {
    await expect(writeIsolating([1, 2], () => Promise.reject(new Error('ECONNREFUSED')), () => false)).rejects.toThrow('ECONNREFUSED');
  });
});

describe('retryBatch', () => {
  const log = createLogger('test', 'silent');
  it('retries a failing batch until it goes through, reporting the failing state', async () => {
    let n = 0;
    const states: boolean[] = [];
    const r = await retryBatch(
      async () => {
        if (n++ < 2) throw new Error('database or disk is full');
        return 'ok';
      },
      { log, what: 'b', stillOwned: () => true, maxDelayMs: 5, onFailing: (f) => states.push(f) },
    );
    expect(r).toEqual({ value: 'ok' });
    expect(n).toBe(3);
    expect(states).toEqual([true, false]);
  });

  it('gives up when the partition is no longer owned', async () => {
    const r = await retryBatch(() => Promise.reject(new Error('x')), { log, what: 'b', stillOwned: () => false, maxDelayMs: 1 });
    expect(r).toBeUndefined();
  });
});
