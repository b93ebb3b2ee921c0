/**
 * Delivers alarm notifications to each municipality's webhook, apart from the stage: a queue per
 * municipality, in order, each POST with a timeout, retried with backoff and jitter until it is
 * accepted (2xx) or `giveUpMs` has passed since its first attempt — then handed to `onGivenUp`
 * (a dead letter). One municipality's receiver being down or never answering holds only its own
 * queue, which is bounded (`maxQueue`; beyond it a notification is given up at once), so it costs
 * a bounded amount of memory and never delays another's.
 *
 * A transition is sent once: repeats (a replay after a restart) are dropped by delivery id, and a
 * delivered one is recorded (`onDelivered`: the alarm's point gets `notified_<state>_at`) so a
 * restart sends only what was not delivered. A crash between the receiver's 2xx and that record
 * sends it once more, with the same `X-Smartcity-Delivery` id for the receiver to drop.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../shared/logging.ts';
import { signature, type Notification, type Webhooks } from './webhooks.ts';

export interface NotifierOptions {
  webhooks: Webhooks;
  log: Logger;
  registry: Registry;
  maxQueue: number;
  giveUpMs: number;
  timeoutMs: number;
  /** Longest wait between attempts. */
  maxBackoffMs?: number;
  onDelivered(n: Notification): Promise<void>;
  onGivenUp(n: Notification, why: string): Promise<void>;
  now?: () => number;
}

/** Delivery ids remembered as sent (beyond that, the oldest are forgotten: they are not replayed). */
const REMEMBERED = 100_000;

export class Notifier {
  private readonly queues = new Map<string, Notification[]>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly known = new Set<string>();
  private stopped = false;
  private readonly wake = new Set<() => void>();
  private readonly o: NotifierOptions;
  private readonly metrics;

  constructor(o: NotifierOptions) {
    this.o = o;
    const registers = [o.registry];
    this.metrics = {
      sent: new Counter({ name: 'alarms_notifications_delivered_total', help: 'Notifications a webhook accepted', labelNames: ['municipality'], registers }),
      failed: new Counter({ name: 'alarms_notification_attempts_failed_total', help: 'Webhook attempts that failed (retried)', labelNames: ['municipality'], registers }),
      givenUp: new Counter({ name: 'alarms_notifications_given_up_total', help: 'Notifications given up (dead-lettered): not accepted within the bound, or the queue full', labelNames: ['municipality'], registers }),
      queued: new Gauge({ name: 'alarms_notifications_queued', help: 'Notifications waiting, all municipalities', registers }),
    };
  }

  /** Already delivered (from the store, at a restart): never sent again. */
  delivered(deliveryId: string): void {
    this.remember(deliveryId);
  }

  /** Queues a notification for its municipality's webhook; repeats and municipalities without one are dropped. */
  send(n: Notification): void {
    if (this.stopped || this.known.has(n.deliveryId) || !this.o.webhooks[n.municipality]) return;
    this.remember(n.deliveryId);
    const q = this.queues.get(n.municipality) ?? [];
    this.queues.set(n.municipality, q);
    if (q.length >= this.o.maxQueue) {
      void this.giveUp(n, `the municipality's queue is full (${this.o.maxQueue} waiting: its webhook is not accepting)`);
      return;
    }
    q.push(n);
    this.metrics.queued.inc();
    if (!this.running.has(n.municipality)) this.running.set(n.municipality, this.drain(n.municipality).finally(() => this.running.delete(n.municipality)));
  }

  /** Stops sending (what waits is sent again after a restart: it is not recorded as delivered). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wake) w();
    await Promise.all(this.running.values());
  }

  private remember(id: string): void {
    this.known.add(id);
    if (this.known.size > REMEMBERED) this.known.delete(this.known.values().next().value!);
  }

  private async drain(municipality: string): Promise<void> {
    const q = this.queues.get(municipality)!;
    const hook = this.o.webhooks[municipality]!;
    const now = this.o.now ?? Date.now;
    while (q.length > 0 && !this.stopped) {
      const n = q[0]!;
      const first = now();
      let attempt = 0;
      let lastError = '';
      for (;;) {
        const error = await this.post(hook, n);
        if (error === undefined) {
          this.metrics.sent.inc({ municipality });
          await this.o.onDelivered(n).catch((err: Error) => this.o.log.warn({ alarm: n.alarmId, err: err.message }, 'could not record a delivered notification; it may be sent again after a restart'));
          break;
        }
        lastError = error;
        this.metrics.failed.inc({ municipality });
        if (this.stopped) return;
        if (now() - first >= this.o.giveUpMs) {
          await this.giveUp(n, `not accepted after ${attempt + 1} attempts over ${Math.round((now() - first) / 1000)} s: ${lastError}`);
          break;
        }
        const backoff = Math.min(this.o.maxBackoffMs ?? 60_000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
        await this.sleep(backoff);
        if (this.stopped) return;
      }
      q.shift();
      this.metrics.queued.dec();
    }
  }

  /** One POST; undefined when accepted, else why not. */
  private async post(hook: { url: string; secret: string }, n: Notification): Promise<string | undefined> {
    const timestamp = Math.floor((this.o.now ?? Date.now)() / 1000);
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-smartcity-delivery': n.deliveryId, 'x-smartcity-timestamp': String(timestamp), 'x-smartcity-signature': signature(hook.secret, timestamp, n.body) },
        body: n.body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return (err as Error).name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs} ms` : (err as Error).message;
    }
  }

  private async giveUp(n: Notification, why: string): Promise<void> {
    this.metrics.givenUp.inc({ municipality: n.municipality });
    this.o.log.error({ municipality: n.municipality, alarm: n.alarmId, state: n.state, why }, 'alarm notification given up; dead-lettered');
    await this.o.onGivenUp(n, why).catch((err: Error) => this.o.log.error({ alarm: n.alarmId, err: err.message }, 'could not dead-letter a notification given up'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
