/**
 * `telemetry.deadletter` (DESIGN.md): why, where, and the original record, so an operator can
 * see what was wrong and replay it after a fix.
 */
import type { BusMessage } from '../bus/bus.ts';
import { z } from 'zod';

export const deadLetterSchema = z.object({
  stage: z.enum(['normalize', 'aggregate']),
  reason: z.string(),
  /** Reading index inside an array payload. */
  index: z.number().int().optional(),
  deviceId: z.string().optional(),
  municipality: z.string().optional(),
  kind: z.string().optional(),
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }),
  /** The source record's value exactly as consumed. */
  original: z.string(),
  at: z.string(),
});

export type DeadLetter = z.infer<typeof deadLetterSchema>;

export function deadLetter(d: Omit<DeadLetter, 'at'>): BusMessage {
  const value: DeadLetter = { ...d, at: new Date().toISOString() };
  // Keyed by device so a device's dead letters stay in order; unknown senders share one key.
  return { key: d.deviceId ?? 'unknown', value: JSON.stringify(value) };
}
