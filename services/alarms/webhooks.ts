/**
 * Where each municipality wants its alarms: a webhook per municipality (a JSON file named by
 * ALARM_WEBHOOKS), and how a notification is built and signed — the body, its delivery id (one per
 * alarm and transition, so a receiver can drop a repeat) and an HMAC-SHA256 signature over the
 * timestamp and the body, as Stripe's and GitHub's webhooks sign theirs. Pure.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseJsonText } from '../../shared/json-text.ts';
import { identSchema } from '../../shared/schemas/topics.ts';
import type { AlarmRecord, AlarmState } from '../../shared/store/alarms.ts';

export const webhooksSchema = z.record(identSchema, z.object({ url: z.url(), secret: z.string().min(16, 'at least 16 characters') }));
export type Webhooks = z.infer<typeof webhooksSchema>;

export type WebhooksResult = { ok: true; webhooks: Webhooks } | { ok: false; error: string };

/** The file's JSON → the webhooks, or one line naming the municipality and field (never a secret's value). */
export function parseWebhooks(text: string): WebhooksResult {
  const r = parseJsonText(text, webhooksSchema, (_json, path) => path.map(String).join('.') || '(file)');
  return r.ok ? { ok: true, webhooks: r.value } : { ok: false, error: `webhooks: ${r.error}` };
}

export interface Notification {
  /** `<alarm id>:<raised|cleared>`: the same for a repeat of the same transition. */
  deliveryId: string;
  municipality: string;
  alarmId: string;
  state: AlarmState;
  body: string;
}

export function notificationOf(a: AlarmRecord, state: AlarmState): Notification {
  const deliveryId = `${a.alarmId}:${state}`;
  const body = JSON.stringify({
    deliveryId,
    alarm: a.alarmId,
    state,
    municipality: a.municipality,
    rule: a.ruleId,
    type: a.type,
    kind: a.kind,
    subject: a.subject,
    severity: a.severity,
    raisedAt: new Date(a.raisedAt).toISOString(),
    clearedAt: a.clearedAt === undefined ? null : new Date(a.clearedAt).toISOString(),
    evidence: a.evidence,
  });
  return { deliveryId, municipality: a.municipality, alarmId: a.alarmId, state, body };
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): a receiver recomputes it, and refuses old timestamps against replay. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
