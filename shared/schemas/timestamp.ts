/**
 * Device timestamps: epoch milliseconds, epoch seconds or an ISO-8601 string (docs/architecture.md).
 * A number below 1e11 is read as seconds (1e11 ms is March 1973, long before any reading here;
 * 1e11 s lies in the year 5138), so the two can never be confused.
 *
 * Total: any input gives a result or a rejection, never an exception — a device's clock is input,
 * and a value far outside JavaScript's date range (nanoseconds, 1e300) must not reach a `Date`
 * method that throws.
 */
import { REJECT, type Rejection } from './rejections.ts';

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/;
const MIN_TS = Date.UTC(2000, 0, 1);
/** The largest time a JavaScript `Date` can hold; schemas bound epoch fields by it so no later `toISOString` throws. */
export const MAX_EPOCH_MS = 8.64e15;

export type TimestampResult = { ok: true; ms: number } | { ok: false; rejection: Rejection };

const tsReject = (code: Rejection['code'], reason: string): TimestampResult => ({ ok: false, rejection: { code, field: 'ts', reason: `ts: ${reason}` } });

/** ISO text of an epoch-ms value that is known to lie in the accepted range. */
const iso = (ms: number) => new Date(ms).toISOString();

/** A number as the device sent it, short enough for a log line. */
const shown = (v: number) => String(v).slice(0, 24);

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The calendar fields of an ISO string are real (no 30 February, hour 25 or minute 61). */
function isoFieldsValid(m: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second = 0, offH = 0, offM = 0] = [m[1], m[2], m[3], m[4], m[5], m[6], m[8], m[9]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysIn(year!, month!) && hour! <= 23 && minute! <= 59 && second <= 59 && offH <= 23 && offM <= 59;
}

/** Epoch ms of a strict ISO-8601 date-time (real calendar fields, an offset or Z), else undefined. */
export function isoDateTimeMs(value: string): number | undefined {
  const m = ISO_RE.exec(value);
  if (!m || !isoFieldsValid(m)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** True for a real `YYYY-MM-DD` calendar date (no 30 February). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo);
}

export function parseTimestamp(value: unknown, receivedAt: number, maxFutureMs: number): TimestampResult {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return tsReject(REJECT.TS_INVALID, 'not a finite number');
    ms = Math.abs(value) < 1e11 ? Math.round(value * 1000) : Math.round(value);
  } else if (typeof value === 'string') {
    const m = ISO_RE.exec(value);
    if (!m) return tsReject(REJECT.TS_INVALID, `'${value.slice(0, 40)}' is not epoch ms, epoch s or ISO-8601`);
    if (!isoFieldsValid(m)) return tsReject(REJECT.TS_INVALID, `'${value.slice(0, 40)}' is not a real calendar date and time`);
    ms = Date.parse(value);
    if (Number.isNaN(ms)) return tsReject(REJECT.TS_INVALID, `'${value.slice(0, 40)}' is not a valid date`);
  } else {
    return tsReject(REJECT.TS_INVALID, `expected a number or an ISO-8601 string, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
  }
  if (ms < MIN_TS) return tsReject(REJECT.TS_TOO_OLD, `${typeof value === 'number' ? shown(value) : `'${value.slice(0, 40)}'`} is before 2000-01-01`);
  const limit = receivedAt + maxFutureMs;
  if (ms > limit) {
    // Beyond the year 5138 even as milliseconds: a finer unit (µs, ns), not a clock that runs fast.
    const hint = typeof value === 'number' && value > 1e14 ? ' (microseconds or nanoseconds? send epoch ms or s)' : '';
    const when = ms <= MAX_EPOCH_MS ? iso(ms) : shown(value as number);
    return tsReject(REJECT.TS_IN_FUTURE, `${when} is more than ${formatAhead(maxFutureMs)} ahead of the gateway's clock${hint}`);
  }
  return { ok: true, ms };
}

function formatAhead(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}
