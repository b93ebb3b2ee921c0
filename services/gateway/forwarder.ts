/**
 * Carries accepted readings onto the bus (Kafka or the embedded log) and says when each one is durable.
 *
 *  direct: records are batched (linger / batch size) into one idempotent `acks=all` produce at a
 *          time, so per-device order holds; each caller resolves when the bus acknowledged.
 *  spool:  after a produce fails or times out, that batch, everything queued behind it and every
 *          new record go to the on-disk spool (durable after fsync). A replay loop sends the spool
 *          to the bus in order and switches back to direct once it is empty.
 *
 * The gateway starts in spool mode, so a spool left by a previous run is replayed before new
 * records go direct.
 */
import type { Bus, BusProducer } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Spool, SpoolRecord } from './spool.ts';
import { sleep } from '../../shared/time.ts';

export interface ForwarderOptions {
  topic: string;
  lingerMs: number;
  batchMax: number;
  sendTimeoutMs: number;
  /**
   * Records per second the spool is replayed at, at most; 0 = as fast as the bus takes them. A town
   * edge back from a long cut sends its backlog at this pace, so the centre keeps room for every
   * other town's live readings.
   */
  drainRate?: number;
}

interface Queued {
  record: SpoolRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}


function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Forwarder {
  private mode: 'direct' | 'spool' = 'spool';
  private modeSince = Date.now();
  private queue: Queued[] = [];
  private sending = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private producer: BusProducer | undefined;
  private replaying: Promise<void> | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  private readonly bus: Bus;
  private readonly spool: Spool;
  private readonly opts: ForwarderOptions;
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;

  constructor(bus: Bus, spool: Spool, opts: ForwarderOptions, metrics: GatewayMetrics, log: Logger) {
    this.bus = bus;
    this.spool = spool;
    this.opts = opts;
    this.metrics = metrics;
    this.log = log;
    metrics.busDirect.set(0);
  }

  get direct(): boolean {
    return this.mode === 'direct';
  }

  /** Since when (epoch ms) it has been forwarding directly, or spooling. */
  get since(): number {
    return this.modeSince;
  }

  /** Begins by replaying whatever the spool holds (nothing, on a clean start). */
  start(): void {
    this.enterSpool([]);
  }

  /** Resolves when the record is durable (bus ack or spool fsync); rejects when it cannot be (spool full). */
  submit(record: SpoolRecord): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('gateway is shutting down'));
    if (this.mode === 'spool') return this.toSpool([record]);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (this.queue.length >= this.opts.batchMax) void this.flush();
      else this.lingerTimer ??= setTimeout(() => void this.flush(), this.opts.lingerMs);
    });
  }

  /** Stops taking records and waits until every accepted one is on the bus or in the spool. */
  async drain(): Promise<void> {
    this.stopped = true;
    while (this.sending || this.queue.length > 0) {
      if (!this.sending) void this.flush();
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    await this.spool.close();
    await this.producer?.close().catch(() => undefined);
  }

  private async send(records: SpoolRecord[]): Promise<void> {
    const producer = await this.connected();
    const t0 = process.hrtime.bigint();
    const messages = records.map((r) => ({ key: r.key, value: r.value, timestamp: String(r.timestamp) }));
    await withTimeout(producer.send(this.opts.topic, messages), this.opts.sendTimeoutMs, 'bus produce');
    this.metrics.busLastContact.set(Date.now() / 1000);
    this.metrics.busLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    this.metrics.busBatchSize.observe(records.length);
  }

  private async connected(): Promise<BusProducer> {
    if (this.producer) return this.producer;
    // Bounded retries: a produce that cannot finish goes to the spool instead of retrying forever.
    const connecting = this.bus.producer({ failFast: true });
    try {
      this.producer = await withTimeout(connecting, this.opts.sendTimeoutMs, 'bus connect');
    } catch (err) {
      // A connection that completes after the timeout is closed, not leaked.
      void connecting.then((p) => p.close()).catch(() => undefined);
      throw err;
    }
    return this.producer;
  }

  private abandonProducer() {
    const p = this.producer;
    this.producer = undefined;
    void p?.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.sending || this.queue.length === 0) return this.notifyIdle();
    this.sending = true;
    const batch = this.queue.splice(0, this.opts.batchMax);
    try {
      await this.send(batch.map((q) => q.record));
      this.metrics.forwarded.inc({ path: 'direct' }, batch.length);
      for (const q of batch) q.resolve();
    } catch (err) {
      this.log.warn({ err: (err as Error).message, records: batch.length }, 'bus produce failed; spooling');
      this.abandonProducer();
      // This batch and everything behind it go to the spool, in order.
      const rest = this.queue.splice(0);
      this.enterSpool([...batch, ...rest]);
    } finally {
      this.sending = false;
    }
    if (this.mode === 'direct' && this.queue.length > 0) void this.flush();
    else this.notifyIdle();
  }

  private notifyIdle() {
    if (this.sending || this.queue.length > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private toSpool(records: SpoolRecord[]): Promise<void> {
    return this.spool.append(records).then(() => {
      this.metrics.spooled.inc(records.length);
    });
  }

  private enterSpool(items: Queued[]) {
    if (this.mode !== 'spool') this.modeSince = Date.now();
    this.mode = 'spool';
    this.metrics.busDirect.set(0);
    if (items.length > 0) {
      this.toSpool(items.map((q) => q.record)).then(
        () => items.forEach((q) => q.resolve()),
        (err: Error) => items.forEach((q) => q.reject(err)),
      );
    }
    this.replaying ??= this.replay().finally(() => (this.replaying = undefined));
  }

  /** Sends the spool to the bus in order; back to direct mode once it is empty. */
  private async replay(): Promise<void> {
    let backoff = 250;
    const rate = this.opts.drainRate ?? 0;
    // At a bounded rate, a batch is at most a second's worth, and each waits out its share of time.
    const batchMax = rate > 0 ? Math.max(1, Math.min(this.opts.batchMax, rate)) : this.opts.batchMax;
    while (!this.stopped) {
      try {
        // Inside the try: reading the spool can fail too (EMFILE, EIO) — that is "not now", never a crash.
        const { records, commit } = this.spool.read(batchMax);
        if (records.length === 0) {
          if (this.spool.isEmpty) {
            // Nothing spooled: prove the bus answers before sending live traffic its way.
            await this.connected();
            // Records spooled while connecting would be stranded by direct mode: replay them first.
            if (!this.spool.isEmpty) continue;
            this.mode = 'direct';
            this.modeSince = Date.now();
            this.metrics.busDirect.set(1);
            this.log.info('bus reachable; forwarding directly');
            return;
          }
          await sleep(5); // appends are being synced
          continue;
        }
        const t0 = Date.now();
        await this.send(records);
        commit();
        this.metrics.forwarded.inc({ path: 'replay' }, records.length);
        backoff = 250;
        if (rate > 0) await sleep(Math.max(0, (records.length / rate) * 1000 - (Date.now() - t0)));
      } catch (err) {
        this.log.warn({ err: (err as Error).message, spooled: this.spool.depthRecords }, 'bus or spool unavailable; readings stay in the spool');
        this.abandonProducer();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}
