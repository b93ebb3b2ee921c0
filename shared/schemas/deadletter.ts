/**
 * `telemetry.deadletter`: why, where, and the original record, so an operator can see what was
 * wrong and replay it after a fix (docs/architecture.md).
 *
 * One dead-letter record per rejected source record, whatever it held: a publish of 30,000 bad
 * readings costs one record with the first reasons listed and the original once — never one
 * copy of the original per reading. Beyond a device's byte budget the original is left out (and
 * counted), so a device that floods bad input cannot grow the dead-letter topic faster than a
 * few kilobytes a second.
 */
import type { BusMessage } from '../bus/bus.ts';
import { RateLimiter } from '../rate-limit.ts';
import { z } from 'zod';
import { REJECTION_CODES, type Rejection } from './rejections.ts';
import { SOURCES } from './envelope.ts';

/** At most this many per-reading reasons are listed; `rejectionCount` says how many there were. */
export const MAX_LISTED_REJECTIONS = 20;

const rejectionSchema = z.object({ code: z.enum(REJECTION_CODES), field: z.string(), reason: z.string(), index: z.number().int().optional() });

export const deadLetterSchema = z.object({
  /** Which stage set it aside: its catalogue entry's `deadLetterStage` (e.g. `ingest` for the gateway, `normalize`). */
  stage: z.string().min(1),
  /** The first (or only) rejection: its code, field and reason. */
  code: z.enum(REJECTION_CODES),
  field: z.string(),
  reason: z.string(),
  /** Reading index inside an array payload, for the first rejection. */
  index: z.number().int().optional(),
  /** Every rejection of the record, up to MAX_LISTED_REJECTIONS. */
  rejections: z.array(rejectionSchema),
  rejectionCount: z.number().int(),
  deviceId: z.string().optional(),
  municipality: z.string().optional(),
  kind: z.string().optional(),
  /** Where the record was read: its bus position, or — at ingest — the listener it came in on, or — an alarm notification — its delivery id. */
  source: z.union([z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }), z.object({ listener: z.enum(SOURCES) }), z.object({ notification: z.string() })]),
  /** The source record's value exactly as consumed; empty when left out (see originalOmittedBytes). */
  original: z.string(),
  /** Bytes of the original left out: the device's dead-letter budget was spent, or it was withheld. */
  originalOmittedBytes: z.number().int().optional(),
  /** Why the original was withheld (a vehicle that may be in private use: no positions kept). */
  originalWithheld: z.string().optional(),
  /** The exception, when handling threw (PROCESSING_FAILED). */
  error: z.string().optional(),
  at: z.string(),
});

export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** A dead letter as a stage describes it; the stage's name is added by whoever sends it (the runner, the gateway's sink). */
export interface DeadLetterInput {
  rejections: Rejection[];
  deviceId?: string | undefined;
  municipality?: string | undefined;
  kind?: string | undefined;
  source: DeadLetter['source'];
  original: string;
  /** Bytes of the original the caller left out itself (an event over the size limit, a withheld one). */
  omittedBytes?: number;
  /** Why the caller withheld the original, if it did. */
  withheld?: string;
  error?: string;
}

/**
 * A per-device allowance of dead-letter bytes that refills at a steady rate (a token bucket of
 * bytes), so a careless device's rejections cost at most `bytesPerSecond` on the topic.
 */
export class DeadLetterBudget extends RateLimiter {
  constructor(bytesPerSecond: number, burstBytes: number, now: () => number = Date.now) {
    super(bytesPerSecond, burstBytes, now);
  }
}

export interface BuiltDeadLetter {
  message: BusMessage;
  /** Bytes of the original left out (0 when it is kept whole). */
  omittedBytes: number;
}

export function deadLetter(stage: string, d: DeadLetterInput, budget?: DeadLetterBudget): BuiltDeadLetter {
  const first = d.rejections[0] ?? { code: 'processing_failed' as const, field: '(record)', reason: 'rejected' };
  const bytes = Buffer.byteLength(d.original);
  const keep = (!budget || budget.take(d.deviceId ?? 'unknown', bytes)) && !d.omittedBytes;
  const value: DeadLetter = {
    stage,
    code: first.code,
    field: first.field,
    reason: first.reason,
    ...(first.index !== undefined ? { index: first.index } : {}),
    rejections: d.rejections.slice(0, MAX_LISTED_REJECTIONS),
    rejectionCount: d.rejections.length,
    deviceId: d.deviceId,
    municipality: d.municipality,
    kind: d.kind,
    source: d.source,
    original: keep ? d.original : '',
    ...(keep ? {} : { originalOmittedBytes: d.omittedBytes ?? bytes }),
    ...(d.withheld !== undefined ? { originalWithheld: d.withheld } : {}),
    ...(d.error !== undefined ? { error: d.error } : {}),
    at: new Date().toISOString(),
  };
  // Keyed by device so a device's dead letters stay in order; unknown senders share one key.
  return { message: { key: d.deviceId ?? 'unknown', value: JSON.stringify(value) }, omittedBytes: keep ? 0 : (d.omittedBytes ?? bytes) };
}
