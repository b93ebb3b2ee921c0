/**
 * Alarms as the store keeps them: one point per alarm (measurement `alarm`, tagged with the
 * municipality, the subject — a device or a zone — and the alarm id, at the time its condition
 * began), written when it is raised and merged with `cleared_at` when it clears. Both stores merge
 * a point's fields on rewrite, so a replayed raise or clear rewrites the same point: no duplicate.
 * Kept with the aggregates (their bucket, their retention).
 */
import { z } from 'zod';
import type { StorePoint } from './store.ts';

export const ALARM_MEASUREMENT = 'alarm';

export interface AlarmRecord {
  alarmId: string;
  municipality: string;
  /** The device, or the zone for a zone rule. */
  subject: string;
  ruleId: string;
  type: string;
  kind: string;
  severity: string;
  /** When its condition began (event time; receive time for silence). */
  raisedAt: number;
  clearedAt?: number;
  /** The readings that raised it, as JSON. */
  evidence: unknown[];
  /** When its municipality's webhook accepted each transition's notification. */
  notified?: Partial<Record<AlarmState, number>>;
}

export type AlarmState = 'raised' | 'cleared';
export const stateOf = (a: AlarmRecord): AlarmState => (a.clearedAt === undefined ? 'raised' : 'cleared');

export function raisedPoint(a: Omit<AlarmRecord, 'clearedAt'>): StorePoint {
  return {
    measurement: ALARM_MEASUREMENT,
    tags: { municipality: a.municipality, device: a.subject, alarm: a.alarmId },
    fields: { rule: a.ruleId, type: a.type, kind: a.kind, severity: a.severity, evidence: JSON.stringify(a.evidence) },
    ts: a.raisedAt,
  };
}

export function clearedPoint(a: Pick<AlarmRecord, 'alarmId' | 'municipality' | 'subject' | 'raisedAt'>, clearedAt: number): StorePoint {
  return { measurement: ALARM_MEASUREMENT, tags: { municipality: a.municipality, device: a.subject, alarm: a.alarmId }, fields: { cleared_at: clearedAt }, ts: a.raisedAt };
}

/** Records that a transition's notification was delivered (merged into the alarm's point). */
export function notifiedPoint(a: Pick<AlarmRecord, 'alarmId' | 'municipality' | 'subject' | 'raisedAt'>, state: AlarmState, at: number): StorePoint {
  return { measurement: ALARM_MEASUREMENT, tags: { municipality: a.municipality, device: a.subject, alarm: a.alarmId }, fields: { [`notified_${state}_at`]: at }, ts: a.raisedAt };
}

export const storedAlarmSchema = z.object({
  ts: z.number(),
  tags: z.object({ municipality: z.string(), device: z.string(), alarm: z.string() }),
  fields: z.object({ rule: z.string(), type: z.string(), kind: z.string(), severity: z.string(), evidence: z.string().optional(), cleared_at: z.number().optional(), notified_raised_at: z.number().optional(), notified_cleared_at: z.number().optional() }),
});

/** A stored alarm point back into an alarm; undefined for a point that holds only a clear (its raise not written yet). */
export function alarmOf(p: Pick<StorePoint, 'ts' | 'tags' | 'fields'>): AlarmRecord | undefined {
  const r = storedAlarmSchema.safeParse(p);
  if (!r.success) return undefined;
  const { tags, fields } = r.data;
  let evidence: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(fields.evidence ?? '[]');
    if (Array.isArray(parsed)) evidence = parsed;
  } catch {
    // kept empty: the alarm stands without its evidence
  }
  const notified = { ...(fields.notified_raised_at === undefined ? {} : { raised: fields.notified_raised_at }), ...(fields.notified_cleared_at === undefined ? {} : { cleared: fields.notified_cleared_at }) };
  return { alarmId: tags.alarm, municipality: tags.municipality, subject: tags.device, ruleId: fields.rule, type: fields.type, kind: fields.kind, severity: fields.severity, raisedAt: r.data.ts, ...(fields.cleared_at === undefined ? {} : { clearedAt: fields.cleared_at }), evidence, ...(Object.keys(notified).length > 0 ? { notified } : {}) };
}

/** What the alarm queries of a store take. */
export interface AlarmQuery {
  /** Raised in [from, to). */
  from: number;
  to: number;
  municipality?: string;
  subject?: string;
}

/** The store's side: alarm points by raise time (InfluxDB and the embedded store). */
export interface AlarmSource {
  alarmPoints(q: AlarmQuery): Promise<StorePoint[]>;
}
