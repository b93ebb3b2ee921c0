/**
 * Device timestamps: epoch milliseconds, epoch seconds or an ISO-8601 string (DESIGN.md).
 * A number below 1e11 is read as seconds (1e11 ms is March 1973, long before any reading here;
 * 1e11 s lies in the year 5138), so the two can never be confused.
 */
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const MIN_TS = Date.UTC(2000, 0, 1);

export type TimestampResult = { ok: true; ms: number } | { ok: false; reason: string };

export function parseTimestamp(value: unknown, receivedAt: number, maxFutureMs: number): TimestampResult {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'ts: not a finite number' };
    ms = Math.abs(value) < 1e11 ? Math.round(value * 1000) : Math.round(value);
  } else if (typeof value === 'string') {
    if (!ISO_RE.test(value)) return { ok: false, reason: `ts: '${value.slice(0, 40)}' is not epoch ms, epoch s or ISO-8601` };
    ms = Date.parse(value);
    if (Number.isNaN(ms)) return { ok: false, reason: `ts: '${value.slice(0, 40)}' is not a valid date` };
  } else {
    return { ok: false, reason: `ts: expected a number or an ISO-8601 string, got ${value === null ? 'null' : typeof value}` };
  }
  if (ms < MIN_TS) return { ok: false, reason: `ts: ${new Date(ms).toISOString()} is before 2000-01-01` };
  if (ms > receivedAt + maxFutureMs) return { ok: false, reason: `ts: ${new Date(ms).toISOString()} is more than ${Math.round(maxFutureMs / 60000)} min ahead of the gateway's clock` };
  return { ok: true, ms };
}
