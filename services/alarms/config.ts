/** The alarm stage's settings (documented in services/alarms/README.md). */
import { z } from 'zod';
import { int } from '../../shared/config.ts';
import { workerEnv } from '../../shared/stages/worker.ts';

export const alarmsEnv = {
  ...workerEnv(9107, 'alarms'),
  ALARM_RULES: z.string().optional().meta({ description: 'a JSON file of alarm rules ({"defaults": […], "municipalities": {"kalamata": […]}}, services/alarms/README.md); a wrong rule stops the stage with one line naming it', docDefault: 'the built-in rules' }),
  ALARM_TICK_MS: int(10_000, 100).describe('how often silence is checked (by the wall clock)'),
  ALARM_RESTORE_DAYS: int(90, 1).describe('how far back open alarms are looked up when a device is first seen after a restart'),
  ALARM_WEBHOOKS: z.string().optional().meta({ description: 'a JSON file of each municipality\'s webhook ({"kalamata": {"url": "https://…", "secret": "…"}}); each transition is POSTed there, HMAC-signed', docDefault: 'none (alarms are only stored)' }),
  ALARM_WEBHOOK_TIMEOUT_MS: int(5000, 100).describe('a webhook that has not answered within this is retried'),
  ALARM_WEBHOOK_GIVE_UP_MS: int(30 * 60_000, 1000).describe('a notification not accepted within this (retried with backoff) is dead-lettered'),
  ALARM_WEBHOOK_QUEUE_MAX: int(1000, 1).describe("notifications waiting per municipality; beyond it (its webhook not accepting) they are dead-lettered at once, so one municipality's receiver costs bounded memory"),
  WRITE_RETRY_MAX_MS: int(10_000, 100).describe('longest wait between retries of a failed store call'),
};

export type AlarmsConfig = z.infer<z.ZodObject<typeof alarmsEnv>>;
