/**
 * The alarm stage: `telemetry.normalized` → alarms in the store. A batch processor on the shared
 * runner (which alone writes, retries and commits), so its only code is what alarms are.
 *
 * Exact after a crash: alarm ids are derived from the rule, the subject and the time the condition
 * began (evaluator.ts), and a raise or clear rewrites the same point. The commit is held back to
 * the first record of any condition still pending (holding, not yet raised) — for a car park, to
 * where each of its bays' states was read — so a restart replays it and raises it with the same
 * id; open alarms are taken back from the store, and replayed
 * readings older than the one that raised them change nothing. Silence is judged by the gateway's
 * receive times against the wall clock; every registered device is expected from the stage's start.
 *
 * It runs as one process: zones (car parks) gather devices of every partition, and silence covers
 * every registered device.
 */
import { Counter } from 'prom-client';
import { ConfigError, readSettingFile } from '../../shared/config-error.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { readingsOfRecord, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { SerialLock } from '../../shared/serial-lock.ts';
import { runBatches, type BatchOutput, type BatchProcessor, type PointFrom, type RunningBatches } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import { REJECT } from '../../shared/schemas/rejections.ts';
import { alarmOf, clearedPoint, notifiedPoint, raisedPoint, stateOf, type AlarmRecord } from '../../shared/store/alarms.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';
import type { AlarmsConfig } from './config.ts';
import { AlarmEvaluator, type Transition } from './evaluator.ts';
import { Notifier } from './notifier.ts';
import { DEFAULT_RULES, parseRules, rulesFor, type AlarmRule, type AlarmRulesFile } from './rules.ts';
import { notificationOf, parseWebhooks, type Notification, type Webhooks } from './webhooks.ts';

const DAY = 86_400_000;

/** The rules file named by ALARM_RULES, or the built-in rules; a wrong file is a configuration error naming the rule. */
export function loadRules(cfg: Pick<AlarmsConfig, 'ALARM_RULES'>): AlarmRulesFile {
  if (!cfg.ALARM_RULES) return DEFAULT_RULES;
  const r = parseRules(readSettingFile('ALARM_RULES', cfg.ALARM_RULES).toString('utf8'));
  if (!r.ok) throw new ConfigError(`invalid configuration: ALARM_RULES='${cfg.ALARM_RULES}': ${r.error}`);
  return r.rules;
}

/** The webhooks file named by ALARM_WEBHOOKS, or none. */
export function loadWebhooks(cfg: Pick<AlarmsConfig, 'ALARM_WEBHOOKS'>): Webhooks {
  if (!cfg.ALARM_WEBHOOKS) return {};
  const r = parseWebhooks(readSettingFile('ALARM_WEBHOOKS', cfg.ALARM_WEBHOOKS).toString('utf8'));
  if (!r.ok) throw new ConfigError(`invalid configuration: ALARM_WEBHOOKS='${cfg.ALARM_WEBHOOKS}': ${r.error}`);
  return r.webhooks;
}

/** A transition as an alarm (a cleared one as it stands once cleared). */
const alarmAfter = (t: Transition): AlarmRecord => ({ alarmId: t.alarmId, municipality: t.municipality, subject: t.subject, ruleId: t.ruleId, type: t.type, kind: t.kind, severity: t.severity, raisedAt: t.raisedAt, evidence: t.evidence, ...(t.state === 'cleared' ? { clearedAt: t.at } : {}) });

/** A transition as the store keeps it. */
export function pointOf(t: Transition): PointFrom {
  const alarm = alarmAfter(t);
  return { point: t.state === 'raised' ? raisedPoint(alarm) : clearedPoint(alarm, t.at) };
}

export async function startAlarms(cfg: AlarmsConfig, deps: WorkerDeps & { store: TelemetryStore; devices: DeviceRegistry }): Promise<RunningWorker> {
  const { log, registry, store, devices } = deps;
  const rules = loadRules(cfg);
  const webhooks = loadWebhooks(cfg);
  const transitions = new Counter({ name: 'alarms_transitions_total', help: 'Alarms raised and cleared', labelNames: ['state', 'rule'], registers: [registry] });
  const cache = new Map<string, AlarmRule[]>();
  const rulesOf = (m: string) => cache.get(m) ?? cache.set(m, rulesFor(rules, m)).get(m)!;
  let evaluator = new AlarmEvaluator(rulesOf);
  let restored = false;
  const lock = new SerialLock();
  // Deliveries and give-ups are stored and dead-lettered through the runner, one at a time with the
  // batches — once the runner is there (a first batch may be handled before runBatches returns).
  let runnerReady: (w: RunningBatches) => void = () => undefined;
  const runner = new Promise<RunningBatches>((resolve) => (runnerReady = resolve));
  const record = (out: BatchOutput) => runner.then((w) => lock.run(() => w.apply(undefined, out, () => true)));
  const letter = (n: Notification, why: string) => ({
    rejections: [{ code: REJECT.NOTIFICATION_UNDELIVERED, field: '(webhook)', reason: `the ${n.municipality} webhook: ${why}` }],
    municipality: n.municipality,
    source: { notification: n.deliveryId },
    original: n.body,
  });
  const notifier = new Notifier({
    webhooks,
    log,
    registry,
    maxQueue: cfg.ALARM_WEBHOOK_QUEUE_MAX,
    giveUpMs: cfg.ALARM_WEBHOOK_GIVE_UP_MS,
    timeoutMs: cfg.ALARM_WEBHOOK_TIMEOUT_MS,
    onDelivered: (n) => record({ produce: [], points: [{ point: notifiedPoint(alarmOfNotification(n), n.state, Date.now()) }], deadLetters: [] }),
    onGivenUp: (n, why) => record({ produce: [], deadLetters: [letter(n, why)] }),
  });

  /** A fresh evaluator: every registered device expected from now, the open alarms taken back from the store, undelivered notifications sent. */
  async function restore(): Promise<void> {
    const now = Date.now();
    evaluator = new AlarmEvaluator(rulesOf);
    for (const d of devices.list()) if (!d.revokedAt) evaluator.expect(d.municipality, d.kind, d.id, now);
    const known = (await store.alarmPoints({ from: now - cfg.ALARM_RESTORE_DAYS * DAY, to: now + DAY })).map(alarmOf).filter((a): a is AlarmRecord => a !== undefined);
    const open = known.filter((a) => stateOf(a) === 'raised');
    for (const a of open) {
      const newest = Math.max(a.raisedAt, ...a.evidence.map((e) => Number((e as { ts?: unknown }).ts)).filter(Number.isFinite));
      evaluator.restore({ ...a, lastTs: newest });
    }
    // Notifications: what was delivered is never sent again; what was not is sent now.
    for (const a of known) {
      for (const state of a.clearedAt === undefined ? (['raised'] as const) : (['raised', 'cleared'] as const)) {
        const n = notificationOf(a, state);
        if (a.notified?.[state] !== undefined) notifier.delivered(n.deliveryId);
        else notifier.send(n);
      }
    }
    restored = true;
    log.info({ openAlarms: open.length }, 'alarm state restored');
  }

  /** The transitions' points, and once they are stored, their notifications. */
  const output = (ts: Transition[]) => {
    for (const t of ts) transitions.inc({ state: t.state, rule: t.ruleId });
    return { points: ts.map(pointOf), afterStore: () => ts.forEach((t) => notifier.send(notificationOf(alarmAfter(t), t.state))) };
  };

  const processor: BatchProcessor<CanonicalReading[] | undefined> = {
    decode: (m) => readingsOfRecord(m.value),
    // One evaluator for every partition (a zone's bays are spread over them): batches one at a time.
    serialize: (_partition, run) =>
      lock.run(async () => {
        if (!restored) await restore();
        return run();
      }),
    async process({ partition, bus: batch, records }) {
      const out: Transition[] = [];
      for (const { record, value } of records) for (const r of value ?? []) out.push(...evaluator.observe(r, { partition, offset: Number(record.offset) }));
      const next = Number(batch.messages.at(-1)!.offset) + 1;
      return { produce: [], ...output(out), deadLetters: [], commit: { offset: String(evaluator.pendingFrom(partition) ?? next) } };
    },
  };
  const worker = await runBatches(processor, deps, {
    cfg,
    topic: cfg.TOPIC_NORMALIZED,
    store,
    storeRetryMaxMs: cfg.WRITE_RETRY_MAX_MS,
    // A new assignment: the state is rebuilt from the store and the replay of the committed offsets.
    consume: { onAssignmentChange: () => void (restored = false) },
  });
  runnerReady(worker);

  const ticker = setInterval(() => {
    void lock
      .run(async () => {
        if (!restored) await restore(); // no batch yet: silence still counts from the start
        const due = evaluator.tick(Date.now());
        if (due.length > 0) await worker.apply(undefined, { produce: [], ...output(due), deadLetters: [] }, () => true);
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'silence check failed; retried on the next tick'));
  }, cfg.ALARM_TICK_MS);

  return {
    consumer: worker.consumer,
    async stop() {
      clearInterval(ticker);
      await notifier.stop();
      await worker.stop();
    },
  };
}

/** The alarm a notification is about, as far as its point's tags go (to record its delivery). */
function alarmOfNotification(n: Notification): Pick<AlarmRecord, 'alarmId' | 'municipality' | 'subject' | 'raisedAt'> {
  const b = JSON.parse(n.body) as { subject: string; raisedAt: string };
  return { alarmId: n.alarmId, municipality: n.municipality, subject: b.subject, raisedAt: Date.parse(b.raisedAt) };
}
