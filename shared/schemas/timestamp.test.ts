import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECT } from './rejections.ts';
import { parseTimestamp } from './timestamp.ts';

const receivedAt = Date.UTC(2026, 10, 25, 12);
const ahead = 15 * 60_000;

describe('parseTimestamp', () => {
  it.each([
    ['nanoseconds', Number("1795766273828704700")],
    ['1e300', 1e300],
    ['-1e300', -1e300],
    ['1e16', 1e16],
    ['Number.MAX_VALUE', Number.MAX_VALUE],
    ['-Number.MAX_VALUE', -Number.MAX_VALUE],
  ])('rejects %s with a reason instead of throwing', (_what, ts) => {
    const r = parseTimestamp(ts, receivedAt, ahead);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.reason).toMatch(/^ts: /);
  });

  it('says a finer unit is the likely cause of a timestamp far in the future', () => {
    const r = parseTimestamp(Number("1795766273828704700"), receivedAt, ahead);
    expect(!r.ok && r.rejection).toMatchObject({ code: REJECT.TS_IN_FUTURE, field: 'ts', reason: expect.stringMatching(/nanoseconds/) as string });
  });

  it.each(['2026-02-30T10:00:00Z', '2026-13-01T10:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T10:61:00Z', '2025-02-29T10:00:00Z'])('rejects the impossible calendar date %s (no roll-over into the next month)', (ts) => {
    const r = parseTimestamp(ts, receivedAt, ahead);
    expect(!r.ok && r.rejection.code).toBe(REJECT.TS_INVALID);
  });

  it('accepts 29 February of a leap year', () => {
    expect(parseTimestamp('2024-02-29T10:00:00Z', receivedAt, ahead)).toEqual({ ok: true, ms: Date.UTC(2024, 1, 29, 10) });
  });

  it('rejects a reading more than the allowed time ahead of the gateway clock, accepts one within it', () => {
    expect(parseTimestamp(receivedAt + ahead, receivedAt, ahead)).toEqual({ ok: true, ms: receivedAt + ahead });
    const r = parseTimestamp(receivedAt + 23 * 3_600_000, receivedAt, ahead);
    expect(!r.ok && r.rejection.code).toBe(REJECT.TS_IN_FUTURE);
  });

  it('never throws, and every result is a time in range or a rejection of ts (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(Number), fc.string(), fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())), fc.anything()), (value) => {
        const r = parseTimestamp(value, receivedAt, ahead);
        if (r.ok) {
          expect(Number.isSafeInteger(r.ms)).toBe(true);
          expect(r.ms).toBeGreaterThanOrEqual(Date.UTC(2000, 0, 1));
          expect(r.ms).toBeLessThanOrEqual(receivedAt + ahead);
        } else {
          expect(r.rejection.field).toBe('ts');
          expect(r.rejection.reason.length).toBeLessThan(200);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
