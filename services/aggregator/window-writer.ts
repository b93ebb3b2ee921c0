/**
 * Closed windows into the store. A window is computed from memory, from the carry of its device's
 * previous window; a device with late readings, or whose closing window an earlier owner of the
 * partition may have written, has its windows recomputed from the stored readings instead
 * (late-windows.ts), once the writer's consumer group has stored the partition that far. Store
 * calls are retried while the store is away; a point the store refuses for what it holds is set
 * aside with an error and a metric, so one window cannot hold its partition forever.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Bus } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import { writeIsolating } from '../../shared/stages/isolate.ts';
import { retryStore } from '../../shared/store/retry.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { aggregateWindow } from './aggregate.ts';
import { CarryCache } from './carry-cache.ts';
import { aggregatePoint, loadCarries } from './carry-store.ts';
import type { AggregatorConfig } from './config.ts';
import { recompute, reopen, waitForWriter, type Reopened } from './late-windows.ts';
import type { PartitionState } from './partition-state.ts';
import type { FleetRules } from './window-math.ts';
import { WINDOWS } from './windows.ts';

type Settings = Pick<AggregatorConfig, 'WRITER_GROUP_ID' | 'WRITER_WAIT_MAX_MS' | 'WRITE_RETRY_MAX_MS' | 'TOPIC_NORMALIZED'>;

export class WindowWriter {
  /** Store calls failing and being retried: while any are, no partition counts as idle. */
  storeWaits = 0;
  private stopping = false;
  /** Each device's carry. Cleared with the assignment. */
  private readonly carries = new CarryCache();
  private readonly metrics;
  private readonly o: { bus: Bus; store: TelemetryStore; log: Logger; registry: Registry; cfg: Settings; rules: FleetRules; owns: (partition: number, st: PartitionState) => boolean; onStoreBack: () => void };

  constructor(o: WindowWriter['o']) {
    this.o = o;
    const registers = [o.registry];
    this.metrics = {
      closed: new Counter({ name: 'aggregator_windows_closed_total', help: 'Windows computed and written', labelNames: ['measurement'], registers }),
      recomputed: new Counter({ name: 'aggregator_windows_recomputed_total', help: 'Windows computed from the stored readings: reopened by late readings, or possibly written before a restart', labelNames: ['measurement'], registers }),
      refused: new Counter({ name: 'aggregator_windows_refused_total', help: 'Aggregate windows the store refused for what they hold (left out, logged)', labelNames: ['measurement'], registers }),
      fenceTimeouts: new Counter({ name: 'aggregator_writer_wait_timeouts_total', help: 'Windows recomputed without the writer having confirmed it stored their readings (WRITER_WAIT_MAX_MS passed)', registers }),
      latency: new Histogram({ name: 'aggregator_store_write_seconds', help: 'Store write latency', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    };
  }

  /** Stopping: waits end and failing store calls give their batch up, uncommitted (the next owner replays it). */
  stop(): void {
    this.stopping = true;
  }

  /** Forgets the carries: a new assignment reads them back from the store. */
  clear(): void {
    this.carries.clear();
  }

  /**
   * Computes and writes every closed window of the partition; resolves when the store has them.
   * `reopened`: devices with late readings. They, and devices whose closing windows may have been
   * written before (`fromStore`), have all their closing windows computed from the store, once
   * the writer has stored the partition up to `storedUpTo`; the others from memory.
   */
  async flush(partition: number, st: PartitionState, storedUpTo: number, reopened = new Map<string, Reopened>()): Promise<void> {
    const closed = st.windows.takeClosed();
    for (const w of closed) if (w.fromStore) reopen(reopened, { ...w, ts: w.start });
    const inMemory = closed.filter((w) => !reopened.has(w.deviceId));
    for (const w of closed) if (reopened.has(w.deviceId)) reopen(reopened, { ...w, ts: w.start });
    if (inMemory.length > 0) {
      await this.carries.resolve(inMemory, (measurement, before, devices) => this.retry('carry lookup', () => loadCarries(this.o.store, measurement, before, devices)));
      const points = inMemory.map((w) => {
        const { fields, carry } = aggregateWindow(w, this.carries.get(w.deviceId), this.o.rules);
        this.carries.set(w.deviceId, carry);
        return aggregatePoint(w, WINDOWS[w.kind].measurement, fields, carry);
      });
      await this.write('aggregate write', points);
      for (const w of inMemory) this.metrics.closed.inc({ measurement: WINDOWS[w.kind].measurement });
    }
    if (reopened.size > 0) await this.recomputeFromStore(partition, st, reopened, storedUpTo);
  }

  /** Rewrites the devices' windows from the stored readings, once the writer has stored the partition up to `storedUpTo`. */
  private async recomputeFromStore(partition: number, st: PartitionState, reopened: Map<string, Reopened>, storedUpTo: number): Promise<void> {
    const { cfg, log } = this.o;
    const t0 = Date.now();
    const fence = await waitForWriter(this.o.bus, {
      writerGroup: cfg.WRITER_GROUP_ID,
      topic: cfg.TOPIC_NORMALIZED,
      partition,
      offset: storedUpTo,
      maxWaitMs: cfg.WRITER_WAIT_MAX_MS,
      stillOwned: () => !this.stopping && this.o.owns(partition, st),
    });
    if (fence === 'gone') throw new Error('the partition moved on before its windows were recomputed'); // uncommitted: its next owner replays
    if (fence === 'timeout') {
      this.metrics.fenceTimeouts.inc();
      log.warn({ partition, offset: storedUpTo, writerGroup: cfg.WRITER_GROUP_ID, waitedMs: cfg.WRITER_WAIT_MAX_MS }, 'the writer has not stored the readings yet; recomputing from what is stored');
    }
    const waitedMs = Date.now() - t0;
    let rewritten = 0;
    for (const o of reopened.values()) {
      // Up to the device's windows still in memory; with none open, through its newest closed one.
      const until = st.windows.openFrom(o.deviceId) ?? Math.max(st.windows.closedUntil(o.deviceId), o.lastLate + WINDOWS[o.kind].sizeMs);
      const { windows, finalCarry } = await this.retry('window recompute', () => recompute(this.o.store, this.o.rules, o, until, (points) => this.write('recomputed window write', points)));
      // The chain ran up to the device's open windows: the next one continues from the new carry.
      if (finalCarry) this.carries.set(o.deviceId, finalCarry);
      this.metrics.recomputed.inc({ measurement: WINDOWS[o.kind].measurement }, windows);
      rewritten += windows;
    }
    // One line per batch that recomputed windows: which devices' windows, from when (an operator sees a backlog being absorbed).
    const ranges = [...reopened.values()].map((o) => `${o.deviceId} ${new Date(o.from).toISOString()}…${new Date(o.lastLate).toISOString()}`);
    log.info({ partition, devices: reopened.size, windows: rewritten, ranges: ranges.slice(0, 10), writerWaitMs: waitedMs, recomputeMs: Date.now() - t0 - waitedMs }, 'windows recomputed from the stored readings');
  }

  /** Writes aggregate points, retrying while the store is away; refused points are logged and counted. */
  private async write(what: string, points: StorePoint[]): Promise<void> {
    const refused = await this.retry(what, async () => {
      const end = this.metrics.latency.startTimer();
      const r = await writeIsolating(points, (ps) => this.o.store.write(ps), (err) => this.o.store.isRefusal(err));
      end();
      return r;
    });
    for (const { point, error } of refused) {
      this.metrics.refused.inc({ measurement: point.measurement });
      this.o.log.error({ measurement: point.measurement, device: point.tags.device, municipality: point.tags.municipality, window: new Date(point.ts).toISOString(), err: error }, 'the store refused an aggregate window; left out');
    }
  }

  /** A store call retried until it succeeds; while it waits, idle closing holds off. */
  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let counted = false;
    return retryStore(fn, {
      what,
      log: this.o.log,
      maxDelayMs: this.o.cfg.WRITE_RETRY_MAX_MS,
      onFailure: () => {
        if (!counted) this.storeWaits++;
        counted = true;
        if (this.stopping) throw new Error(`${what}: the worker is stopping`);
      },
      onWaitEnded: () => {
        this.storeWaits--;
        this.o.onStoreBack();
      },
    });
  }
}
