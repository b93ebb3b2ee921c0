/**
 * Query parameters of the KPI routes, validated with zod (the same schemas produce the OpenAPI
 * document). Times are ISO-8601 (date or date-time) or epoch milliseconds; `to` defaults to now
 * and `from` to seven days before `to`.
 */
import { z } from 'zod';
import { localMidnight } from '../../shared/kpi/periods.ts';
import { MAX_EPOCH_MS, isCalendarDate, isoDateTimeMs } from '../../shared/schemas/timestamp.ts';
import { identSchema } from '../../shared/schemas/topics.ts';
import { MAX_COMMENT_CHARS } from './alarm-notes.ts';

const DAY_MS = 86_400_000;
export const MAX_RANGE_DAYS = 400;

const instant = z
  .string()
  .trim()
  .transform((v, ctx) => {
    // A date alone is local midnight in Europe/Athens, as a municipality means it.
    // Strict: a date that does not exist (30 February) is refused, not rolled into the next month.
    const ms = /^\d{10,14}$/.test(v) ? Number(v) : isCalendarDate(v) ? localMidnight(v) : (isoDateTimeMs(v) ?? NaN);
    if (Number.isNaN(ms) || ms > MAX_EPOCH_MS) {
      ctx.addIssue({ code: 'custom', message: `'${v}' is not an ISO-8601 date/time or epoch milliseconds` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'ISO-8601 date (local midnight in Europe/Athens) or date-time (e.g. 2026-11-01 or 2026-11-01T00:00:00Z), or epoch milliseconds', example: '2026-11-01' });

export const formatParam = z.enum(['json', 'csv']).default('json').meta({ description: 'json (default) or csv; `Accept: text/csv` also selects CSV' });

export const municipalityParams = z.object({ municipality: identSchema.meta({ description: 'municipality id, e.g. kalamata' }) });

/** A range check shared by the current and the baseline period. */
function checkRange(from: number, to: number, path: string, ctx: z.RefinementCtx) {
  if (from >= to) ctx.addIssue({ code: 'custom', path: [path], message: `must be before ${path === 'from' ? 'to' : 'baselineTo'}` });
  else if (to - from > MAX_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: [path], message: `range longer than ${MAX_RANGE_DAYS} days` });
}

const rangeShape = { from: instant.optional(), to: instant.optional(), format: formatParam };

/** Fills the defaults (to = now, from = to − 7 days) and checks the order. */
const withRange = <T extends { from?: number; to?: number }>(v: T, ctx: z.RefinementCtx) => {
  const to = v.to ?? Date.now();
  const from = v.from ?? to - 7 * DAY_MS;
  checkRange(from, to, 'from', ctx);
  return { ...v, from, to };
};

export const rangeQuery = z.object(rangeShape).transform(withRange);

export const alarmParams = municipalityParams.extend({ alarm: z.string().regex(/^[0-9a-f]{24}$/, 'an alarm id: 24 hex characters').meta({ description: 'the alarm id' }) });
export const acknowledgeBody = z.object({ comment: z.string().trim().min(1).max(MAX_COMMENT_CHARS).optional() }).optional();
export const commentBody = z.object({ text: z.string().trim().min(1).max(MAX_COMMENT_CHARS) });

export const alarmsQuery = z
  .object({
    ...rangeShape,
    state: z.enum(['raised', 'acknowledged', 'cleared']).optional().meta({ description: 'raised (open, not acknowledged), acknowledged (open) or cleared; all when absent' }),
    severity: z.enum(['critical', 'major', 'minor', 'warning']).optional(),
    kind: z.enum(['energy', 'fleet', 'parking']).optional(),
  })
  .transform(withRange);

export const groupingParam = z.enum(['building', 'district', 'municipality']).default('building').meta({ description: 'what the kWh are summed over' });

export const energyQuery = z
  .object({
    ...rangeShape,
    interval: z.enum(['hour', 'day', 'week', 'month']).default('day').meta({ description: 'calendar periods in Europe/Athens time' }),
    by: groupingParam,
  })
  .transform(withRange);

export const savingsQuery = z
  .object({
    ...rangeShape,
    baselineFrom: instant,
    baselineTo: instant,
    by: groupingParam,
  })
  .transform((v, ctx) => {
    checkRange(v.baselineFrom, v.baselineTo, 'baselineFrom', ctx);
    return withRange(v, ctx);
  });

export const healthQuery = z.object({
  silentMinutes: z.coerce.number().int().min(1).max(10_080).default(15).meta({ description: 'a device with no reading for longer is silent' }),
  lookbackDays: z.coerce.number().int().min(1).max(MAX_RANGE_DAYS).default(30).meta({ description: 'how far back readings are looked for' }),
  format: formatParam,
});
