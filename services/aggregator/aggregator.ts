/**
 * The aggregator stage: `telemetry.normalized` → aggregates in the store (InfluxDB or the embedded store).
 *
 * Per partition: readings go into event-time windows, each device judged by its own progress
 * (windows.ts); closed windows are computed (carry from the device's previous window), written
 * to the store, and only then is the offset committed — held back to the first record of the
 * oldest window still open, with the newest event time in the commit's metadata. A worker killed
 * at any moment, or a partition moved to another group member, resumes from there: the open
 * windows are rebuilt by replay, those that may have been written before are computed from the
 * stored readings, and a rewritten window overwrites the same point. Late readings, and those
 * windows, are recomputed from the store (late-windows.ts) once the writer has stored what they
 * need.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { lastOffset, type BusBatch, type Committed } from '../../shared/bus/bus.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { parseNormalizedMessage, readingsOf, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import { runBatches, type BatchOutput, type BatchProcessor, type DecodedRecord } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import { retryStore } from '../../shared/store/retry.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { writeIsolating } from '../../shared/stages/isolate.ts';
import { aggregateWindow } from './aggregate.ts';
import { CarryCache } from './carry-cache.ts';
import { commitInfo, isIdle, restorePartition, type PartitionState } from './partition-state.ts';
import { aggregatePoint, loadCarries } from './carry-store.ts';
import { recompute, reopen, waitForWriter, type Reopened } from './late-windows.ts';
import type { AggregatorConfig } from './config.ts';
import { WINDOWS } from './windows.ts';

export async function startAggregator(cfg: AggregatorConfig, deps: WorkerDeps & { store: TelemetryStore }): Promise<RunningWorker> {
  const { bus, log, registry, store } = deps;
  const closedCount = new Counter({ name: 'aggregator_windows_closed_total', help: 'Windows computed and written', labelNames: ['measurement'], registers: [registry] });
  const lateCount = new Counter({ name: 'aggregator_late_readings_total', help: "Late readings older than the raw readings' retention (dead-lettered: the store no longer keeps what their window needs)", labelNames: ['kind'], registers: [registry] });
  const invalidCount = new Counter({ name: 'aggregator_invalid_records_total', help: 'Records that are not normalised messages (skipped; the writer dead-letters them)', registers: [registry] });
  const fenceTimeouts = new Counter({ name: 'aggregator_writer_wait_timeouts_total', help: 'Late windows recomputed without the writer having confirmed it stored their readings (WRITER_WAIT_MAX_MS passed)', registers: [registry] });
  /** Set when the worker stops: waits end, so the last batch can finish. */
  let stopping = false;
  const reopenedCount = new Counter({ name: 'aggregator_windows_recomputed_total', help: 'Windows computed from the stored readings: reopened by late readings, or possibly written before a restart', labelNames: ['measurement'], registers: [registry] });
  const refusedCount = new Counter({ name: 'aggregator_windows_refused_total', help: 'Aggregate windows the store refused for what they hold (left out, logged)', labelNames: ['measurement'], registers: [registry] });
  const openGauge = new Gauge({ name: 'aggregator_open_windows', help: 'Windows open in memory', registers: [registry] });
  const writeLatency = new Histogram({ name: 'aggregator_store_write_seconds', help: 'Store write latency', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const timing = { delayMs: cfg.WATERMARK_DELAY_MS, latenessMs: cfg.ALLOWED_LATENESS_MS, quietMs: cfg.DEVICE_QUIET_MS };
  const rules = { jitterM: cfg.FLEET_JITTER_M, movingKmh: cfg.FLEET_MOVING_KMH, speedLimitKmh: cfg.FLEET_SPEED_LIMIT_KMH, maxGapS: cfg.FLEET_MAX_GAP_S };

  const partitions = new Map<number, PartitionState>();
  /** Store calls currently failing and retried: while any are, nothing counts as idle. */
  let storeWaits = 0;
  /** Batches being handled: a partition cannot receive records while another's batch is stuck. */
  let activeHandlers = 0;

  /** A store call retried until it succeeds; while it waits, idle closing holds off. */
  const storeRetry = <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    let counted = false;
    return retryStore(fn, {
      what,
      log,
      maxDelayMs: cfg.WRITE_RETRY_MAX_MS,
      onFailure: () => {
        if (!counted) storeWaits++;
        counted = true;
        // Stopping: give the batch up uncommitted (whoever owns the partition next replays it).
        if (stopping) throw new Error(`${what}: the worker is stopping`);
      },
      onWaitEnded: () => {
        storeWaits--;
        // Partitions that waited behind this call were not idle: give them a fresh idle period.
        for (const p of partitions.values()) p.lastActivity = Date.now();
      },
    });
  };
  /**
   * Writes aggregate points, retrying while the store is away. A point the store refuses for what
   * it holds (a bug in the window maths, say a non-finite number) is set aside with an error and a
   * metric, so one window cannot hold its partition forever; the raw readings stay stored.
   */
  async function writeAggregates(what: string, points: StorePoint[]): Promise<void> {
    const refused = await storeRetry(what, async () => {
      const end = writeLatency.startTimer();
      const r = await writeIsolating(points, (ps) => store.write(ps), (err) => store.isRefusal(err));
      end();
      return r;
    });
    for (const { point, error } of refused) {
      refusedCount.inc({ measurement: point.measurement });
      log.error({ measurement: point.measurement, device: point.tags.device, municipality: point.tags.municipality, window: new Date(point.ts).toISOString(), err: error }, 'the store refused an aggregate window; left out');
    }
  }

  /** Last carry per device. Cleared with the assignment. */
  const carries = new CarryCache();
  let committed: Promise<Map<number, Committed>> | undefined;

  const loadCommitted = () => bus.committed(cfg.BUS_GROUP_ID, cfg.TOPIC_NORMALIZED);

  async function stateFor(partition: number): Promise<PartitionState> {
    let st = partitions.get(partition);
    if (st) return st;
    // A failed lookup (a broker failing over) must not stay cached: the batch is retried and
    // looks again, instead of failing until the next rebalance.
    committed ??= loadCommitted().catch((err: unknown) => {
      committed = undefined;
      throw err;
    });
    const c = (await committed).get(partition);
    st = restorePartition(c, timing, Date.now());
    partitions.set(partition, st);
    const newest = st.windows.newestEventTime;
    log.info({ partition, resumeAt: c?.offset, replayUntil: st.replayedUntil, newestEventTime: Number.isFinite(newest) ? new Date(newest).toISOString() : null }, 'partition state restored');
    return st;
  }

  /**
   * Computes and writes every closed window of the partition; resolves when the store has them.
   * `reopened`: devices with late readings in this batch. They, and devices whose closing windows
   * may have been written before (`fromStore`), have all their closing windows computed from the
   * store, once the writer has stored the partition up to `storedUpTo`; the others from memory.
   */
  async function flushClosed(partition: number, st: PartitionState, storedUpTo: number, reopened = new Map<string, Reopened>()): Promise<void> {
    const closed = st.windows.takeClosed();
    openGauge.set([...partitions.values()].reduce((s, p) => s + p.windows.openCount, 0));
    for (const w of closed) if (w.fromStore) reopen(reopened, { ...w, ts: w.start });
    const inMemory = closed.filter((w) => !reopened.has(w.deviceId));
    for (const w of closed) if (reopened.has(w.deviceId)) reopen(reopened, { ...w, ts: w.start });
    if (inMemory.length > 0) {
      await carries.resolve(inMemory, (measurement, before, devices) => storeRetry('carry lookup', () => loadCarries(store, measurement, before, devices)));
      const points = inMemory.map((w) => {
        const { fields, carry } = aggregateWindow(w, carries.get(w.deviceId), rules);
        carries.set(w.deviceId, carry);
        return aggregatePoint(w, WINDOWS[w.kind].measurement, fields, carry);
      });
      await writeAggregates('aggregate write', points);
      for (const w of inMemory) closedCount.inc({ measurement: WINDOWS[w.kind].measurement });
    }
    if (reopened.size > 0) await recomputeFromStore(partition, st, reopened, storedUpTo);
  }

  /** Rewrites the devices' windows from the stored readings, once the writer has stored the partition up to `storedUpTo`. */
  async function recomputeFromStore(partition: number, st: PartitionState, reopened: Map<string, Reopened>, storedUpTo: number): Promise<void> {
    const t0 = Date.now();
    const fence = await waitForWriter(bus, {
      writerGroup: cfg.WRITER_GROUP_ID,
      topic: cfg.TOPIC_NORMALIZED,
      partition,
      offset: storedUpTo,
      maxWaitMs: cfg.WRITER_WAIT_MAX_MS,
      stillOwned: () => !stopping && partitions.get(partition) === st,
    });
    if (fence === 'gone') throw new Error('the partition moved on before its windows were recomputed'); // uncommitted: its next owner replays
    if (fence === 'timeout') {
      fenceTimeouts.inc();
      log.warn({ partition, offset: storedUpTo, writerGroup: cfg.WRITER_GROUP_ID, waitedMs: cfg.WRITER_WAIT_MAX_MS }, 'the writer has not stored the readings yet; recomputing from what is stored');
    }
    const waitedMs = Date.now() - t0;
    let rewritten = 0;
    for (const o of reopened.values()) {
      const size = WINDOWS[o.kind].sizeMs;
      // Up to the device's windows still in memory; with none open, through its newest closed one.
      const until = st.windows.openFrom(o.deviceId) ?? Math.max(st.windows.closedUntil(o.deviceId), o.lastLate + size);
      const { windows, finalCarry } = await storeRetry('window recompute', () => recompute(store, rules, o, until, (points) => writeAggregates('recomputed window write', points)));
      // The chain ran up to the device's open windows: the next one continues from the new carry.
      if (finalCarry) carries.set(o.deviceId, finalCarry);
      reopenedCount.inc({ measurement: WINDOWS[o.kind].measurement }, windows);
      rewritten += windows;
    }
    // One line per batch that recomputed windows: which devices' windows, from when (an operator sees a backlog being absorbed).
    const ranges = [...reopened.values()].map((o) => `${o.deviceId} ${new Date(o.from).toISOString()}…${new Date(o.lastLate).toISOString()}`);
    log.info({ partition, devices: reopened.size, windows: rewritten, ranges: ranges.slice(0, 10), writerWaitMs: waitedMs, recomputeMs: Date.now() - t0 - waitedMs }, 'windows recomputed from the stored readings');
  }

  async function handleBatch(batch: BusBatch, records: DecodedRecord<CanonicalReading[] | undefined>[]): Promise<BatchOutput> {
    const st = await stateFor(batch.partition);
    return st.lock.run(async () => {
      const late: DeadLetterInput[] = [];
      const reopened = new Map<string, Reopened>();
      // The writer dead-letters records that are not normalised messages; here they are only counted.
      invalidCount.inc(records.filter((x) => x.value === undefined).length);
      for (const { record: m, value: readings } of records) {
        const offset = Number(m.offset);
        if (!readings || offset < st.next) continue; // older ones are already in this process's windows
        // A message's readings go in together, under the record's offset; its late ones make one dead letter.
        const lateHere: Rejection[] = [];
        readings.forEach((r, index) => {
          if (st.windows.add(r, offset) !== 'late') return;
          // A late reading reopens its window (recomputed from the store), unless the store no longer keeps its readings.
          if (r.receivedAt - r.ts <= cfg.REOPEN_HORIZON_MS) return reopen(reopened, r);
          if (offset < st.replayedUntil) return; // dead-lettered before the restart
          lateCount.inc({ kind: r.kind });
          const reason = `late: the ${WINDOWS[r.kind].measurement} window of ${new Date(r.ts).toISOString()} has closed and the reading is more than ${Math.round(cfg.REOPEN_HORIZON_MS / 86_400_000)} days old, beyond the raw readings' retention`;
          lateHere.push({ code: REJECT.LATE, field: 'ts', reason, ...(readings.length > 1 ? { index } : {}) });
        });
        if (lateHere.length === 0) continue;
        const r = readings[0]!;
        late.push({
          stage: 'aggregate',
          rejections: lateHere,
          deviceId: r.deviceId,
          municipality: r.municipality,
          kind: r.kind,
          source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
          original: m.value?.toString('utf8') ?? '',
        });
      }
      st.next = Number(lastOffset(batch)) + 1;
      st.caughtUp = st.next >= Number(batch.highWatermark);
      st.lastActivity = Date.now();
      await flushClosed(batch.partition, st, st.next - 1, reopened);
      st.lastActivity = Date.now(); // a slow write (the store away) is not idleness
      return { produce: [], deadLetters: late, commit: commitInfo(st) };
    });
  }

  // The runner decodes, dead-letters the late readings and commits; the windows are this worker's.
  const processor: BatchProcessor<CanonicalReading[] | undefined> = {
    stage: 'aggregate',
    decode: (m) => {
      try {
        const parsed = parseNormalizedMessage(JSON.parse(m.value?.toString('utf8') || 'null'));
        return parsed.success ? readingsOf(parsed.data) : undefined;
      } catch {
        return undefined;
      }
    },
    async process({ bus: batch, records }) {
      activeHandlers++;
      try {
        return await handleBatch(batch, records);
      } finally {
        activeHandlers--;
      }
    },
  };
  const worker = await runBatches(processor, deps, {
    cfg,
    topic: cfg.TOPIC_NORMALIZED,
    consume: {
      onAssignmentChange: () => {
        // Whatever was in memory is rebuilt from the committed offsets of the new assignment.
        partitions.clear();
        carries.clear();
        committed = undefined;
      },
    },
    // The last batches finish (and write) before the producer closes.
    onStop: async () => {
      await Promise.all([...partitions.values()].map((st) => st.lock.idle()));
    },
  });
  const { consumer } = worker;

  // Idle partitions: let the clock follow the wall clock so quiet devices' windows close without new data.
  // Idle means caught up with the partition and quiet for IDLE_CLOSE_MS — not stuck behind another
  // partition's batch, nor waiting for the store.
  const idle = (st: PartitionState) => isIdle(st, { now: Date.now(), idleMs: cfg.IDLE_CLOSE_MS, activeHandlers, storeWaits });
  const ticker = setInterval(() => {
    for (const [partition, st] of partitions) {
      if (st.windows.openCount === 0 || !idle(st)) continue;
      void st.lock.run(async () => {
        // Re-checked under the lock: a batch may have run while this tick waited for it.
        if (partitions.get(partition) !== st || !idle(st)) return;
        st.windows.advanceClock(Date.now());
        await flushClosed(partition, st, st.next - 1);
        await consumer.commit(partition, commitInfo(st));
      }).catch((err: Error) => log.warn({ partition, err: err.message }, 'idle close failed; retried on the next tick'));
    }
  }, 1000);

  return {
    consumer,
    async stop() {
      stopping = true;
      clearInterval(ticker);
      await worker.stop();
    },
  };
}
