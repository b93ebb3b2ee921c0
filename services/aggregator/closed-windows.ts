/**
 * Closed windows into points for the runner to store. A window is computed from memory, from the
 * carry of its device's previous window; a device with late readings, or whose closing window an
 * earlier owner of the partition may have written, has its windows recomputed from the stored
 * readings instead (late-windows.ts), once the writer's consumer group has stored the partition
 * that far — after the in-memory points are stored, span by span through the runner's writing.
 * This reads the store (carries, readings), retrying while it is away; it never writes.
 */
import { Counter, type Registry } from 'prom-client';
import type { Bus } from '../../shared/bus/bus.ts';
import type { Logger } from '../../shared/logging.ts';
import type { BatchOutput } from '../../shared/stages/batch-runner.ts';
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
type Write = (points: StorePoint[]) => Promise<void>;

/** What closing a partition's windows gives the runner: the points, and the recomputations that follow them. */
export type ClosedOutput = Pick<BatchOutput, 'points' | 'afterStore' | 'thenStore'>;

export class ClosedWindows {
  /** Store reads failing and being retried: while any are, no partition counts as idle. */
  storeWaits = 0;
  private stopping = false;
  /** Each device's carry. Cleared with the assignment. */
  private readonly carries = new CarryCache();
  private readonly metrics;
  private readonly o: { bus: Bus; store: TelemetryStore; log: Logger; registry: Registry; cfg: Settings; rules: FleetRules; owns: (partition: number, st: PartitionState) => boolean; onStoreBack: () => void };

  constructor(o: ClosedWindows['o']) {
    this.o = o;
    const registers = [o.registry];
    this.metrics = {
      closed: new Counter({ name: 'aggregator_windows_closed_total', help: 'Windows computed and written', labelNames: ['measurement'], registers }),
      recomputed: new Counter({ name: 'aggregator_windows_recomputed_total', help: 'Windows computed from the stored readings: reopened by late readings, or possibly written before a restart', labelNames: ['measurement'], registers }),
      fenceTimeouts: new Counter({ name: 'aggregator_writer_wait_timeouts_total', help: 'Windows recomputed without the writer having confirmed it stored their readings (WRITER_WAIT_MAX_MS passed)', registers }),
    };
  }

  /** Stopping: waits end and failing store reads give their batch up, uncommitted (the next owner replays it). */
  stop(): void {
    this.stopping = true;
  }

  /** Forgets the carries: a new assignment reads them back from the store. */
  clear(): void {
    this.carries.clear();
  }

  /** Records store waits for the runner's writes too (`RunnerOptions.storeWaits`). */
  readonly waits = {
    began: () => void this.storeWaits++,
    ended: () => {
      this.storeWaits--;
      this.o.onStoreBack();
    },
  };

  /**
   * Every closed window of the partition as points. `reopened`: devices with late readings. They,
   * and devices whose closing windows may have been written before (`fromStore`), have all their
   * closing windows computed from the store, once the writer has stored the partition up to
   * `storedUpTo`; the others from memory.
   */
  async close(partition: number, st: PartitionState, storedUpTo: number, reopened = new Map<string, Reopened>()): Promise<ClosedOutput> {
    const closed = st.windows.takeClosed();
    for (const w of closed) if (w.fromStore) reopen(reopened, w, w.start);
    const inMemory = closed.filter((w) => !reopened.has(w.deviceId));
    for (const w of closed) if (reopened.has(w.deviceId)) reopen(reopened, w, w.start);
    const points: StorePoint[] = [];
    if (inMemory.length > 0) {
      await this.carries.resolve(inMemory, (measurement, before, devices) => this.retry('carry lookup', partition, st, () => loadCarries(this.o.store, measurement, before, devices)));
      for (const w of inMemory) {
        const { fields, carry } = aggregateWindow(w, this.carries.get(w.deviceId), this.o.rules);
        this.carries.set(w.deviceId, carry);
        points.push(aggregatePoint(w, WINDOWS[w.kind].measurement, fields, carry));
      }
    }
    return {
      points: points.map((point) => ({ point })),
      afterStore: (stored) => {
        for (const x of stored) this.metrics.closed.inc({ measurement: x.point.measurement });
      },
      ...(reopened.size > 0 ? { thenStore: (write: Write) => this.recomputeFromStore(partition, st, reopened, storedUpTo, write) } : {}),
    };
  }

  /** Rewrites the devices' windows from the stored readings, once the writer has stored the partition up to `storedUpTo`. */
  private async recomputeFromStore(partition: number, st: PartitionState, reopened: Map<string, Reopened>, storedUpTo: number, write: Write): Promise<void> {
    const { cfg, log } = this.o;
    const t0 = Date.now();
    const fence = await waitForWriter(this.o.bus, {
      writerGroup: cfg.WRITER_GROUP_ID,
      topic: cfg.TOPIC_NORMALIZED,
      partition,
      offset: storedUpTo,
      maxWaitMs: cfg.WRITER_WAIT_MAX_MS,
      stillOwned: () => this.owned(partition, st),
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
      // Each span is written (by the runner, which retries) before the next is read; a failed read starts the chain again.
      const { windows, finalCarry } = await this.retry('window recompute', partition, st, () => recompute(this.o.store, this.o.rules, o, until, write));
      // The chain ran up to the device's open windows: the next one continues from the new carry.
      if (finalCarry) this.carries.set(o.deviceId, finalCarry);
      this.metrics.recomputed.inc({ measurement: WINDOWS[o.kind].measurement }, windows);
      rewritten += windows;
    }
    // One line per batch that recomputed windows: which devices' windows, from when (an operator sees a backlog being absorbed).
    const ranges = [...reopened.values()].map((o) => `${o.deviceId} ${new Date(o.from).toISOString()}…${new Date(o.lastLate).toISOString()}`);
    log.info({ partition, devices: reopened.size, windows: rewritten, ranges: ranges.slice(0, 10), writerWaitMs: waitedMs, recomputeMs: Date.now() - t0 - waitedMs }, 'windows recomputed from the stored readings');
  }

  private owned(partition: number, st: PartitionState): boolean {
    return !this.stopping && this.o.owns(partition, st);
  }

  /** A store read retried until it succeeds, while the partition is still this member's; while it waits, idle closing holds off. */
  private retry<T>(what: string, partition: number, st: PartitionState, fn: () => Promise<T>): Promise<T> {
    let counted = false;
    return retryStore(fn, {
      what,
      log: this.o.log,
      maxDelayMs: this.o.cfg.WRITE_RETRY_MAX_MS,
      onFailure: () => {
        if (!counted) this.waits.began();
        counted = true;
        if (!this.owned(partition, st)) throw new Error(`${what}: the worker is stopping or the partition moved on`);
      },
      onWaitEnded: () => this.waits.ended(),
    });
  }
}
