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
import { Counter, Gauge } from 'prom-client';
import { decodeNormalizedRecord, type NormalizedMessage } from '../../shared/schemas/readings.ts';
import { runBatches, type BatchProcessor } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';
import { admitBatch } from './admit.ts';
import { rawRetentionDays } from '../../shared/privacy/retention.ts';
import { AssignedPartitions } from './assigned-partitions.ts';
import { ClosedWindows } from './closed-windows.ts';
import type { AggregatorConfig } from './config.ts';
import { commitInfo, isIdle, type PartitionState } from './partition-state.ts';
import type { ReadingSource } from './windows.ts';

export async function startAggregator(cfg: AggregatorConfig, deps: WorkerDeps & { store: TelemetryStore }): Promise<RunningWorker> {
  // A late reading reopens its window only while the store keeps the window's raw readings.
  const horizonOf = (d: Pick<ReadingSource, 'kind' | 'municipality'>) => Math.min(cfg.REOPEN_HORIZON_MS, rawRetentionDays(cfg, d.kind, d.municipality) * 86_400_000);
  const { bus, log, registry, store } = deps;
  const lateCount = new Counter({ name: 'aggregator_late_readings_total', help: "Late readings older than the raw readings' retention (dead-lettered: the store no longer keeps what their window needs)", labelNames: ['kind'], registers: [registry] });
  const invalidCount = new Counter({ name: 'aggregator_invalid_records_total', help: 'Records that are not normalised messages (skipped; the writer dead-letters them)', registers: [registry] });
  const timing = { delayMs: cfg.WATERMARK_DELAY_MS, latenessMs: cfg.ALLOWED_LATENESS_MS, quietMs: cfg.IDLE_CLOSE_MS };
  const rules = { jitterM: cfg.FLEET_JITTER_M, movingKmh: cfg.FLEET_MOVING_KMH, speedLimitKmh: cfg.FLEET_SPEED_LIMIT_KMH, maxGapS: cfg.FLEET_MAX_GAP_S };
  const partitions = new AssignedPartitions({ bus, groupId: cfg.BUS_GROUP_ID, topic: cfg.TOPIC_NORMALIZED, timing, log });
  new Gauge({
    name: 'aggregator_open_windows',
    help: 'Windows open in memory',
    registers: [registry],
    collect(this: Gauge) {
      this.set(partitions.openWindows);
    },
  });
  // Partitions that waited behind a failing store call were not idle: they get a fresh idle period.
  const windows = new ClosedWindows({ bus, store, log, registry, cfg, rules, owns: (p, st) => partitions.owns(p, st), onStoreBack: () => partitions.touch() });

  // The runner decodes, stores the windows, dead-letters the late readings and commits; the windows are this worker's.
  // Each record decoded once, its readings kept as parsed (windows.ts: WindowReading).
  const processor: BatchProcessor<NormalizedMessage | undefined> = {
    decode: (m) => {
      const r = decodeNormalizedRecord(m.value);
      return r.ok ? r.message : undefined;
    },
    // A partition's batches and idle closes one at a time, each through its store writes and commit.
    serialize: (partition, run) => partitions.serialize(partition, run),
    async process({ bus: batch, records }) {
      const st = await partitions.stateFor(batch.partition);
      const admitted = admitBatch(st, batch, records, horizonOf);
      invalidCount.inc(admitted.invalid);
      for (const kind of admitted.lateKinds) lateCount.inc({ kind });
      const closed = await windows.close(batch.partition, st, st.next - 1, admitted.reopened);
      return { produce: [], ...closed, deadLetters: admitted.deadLetters, commit: commitInfo(st) };
    },
  };
  const worker = await runBatches(processor, deps, {
    cfg,
    topic: cfg.TOPIC_NORMALIZED,
    store,
    storeRetryMaxMs: cfg.WRITE_RETRY_MAX_MS,
    storeWaits: windows.waits,
    // Whatever was in memory is rebuilt from the committed offsets of the new assignment.
    consume: { onAssignmentChange: () => (partitions.clear(), windows.clear()) },
    // The last batches finish (and write) before the producer closes.
    onStop: async () => void (await partitions.idle()),
  });

  // Idle partitions — caught up and quiet for IDLE_CLOSE_MS, not stuck behind another partition's
  // batch nor waiting for the store — let their clock follow the wall clock, so quiet devices'
  // windows close without new data.
  const idle = (st: PartitionState) => isIdle(st, { now: Date.now(), idleMs: cfg.IDLE_CLOSE_MS, activeHandlers: partitions.active, storeWaits: windows.storeWaits });
  const ticker = setInterval(() => {
    for (const [partition, st] of partitions.entries()) {
      if (st.windows.openCount === 0 || !idle(st)) continue;
      void st.lock
        .run(async () => {
          // Re-checked under the lock: a batch may have run while this tick waited for it.
          if (!partitions.owns(partition, st) || !idle(st)) return;
          st.windows.advanceClock(Date.now());
          const closed = await windows.close(partition, st, st.next - 1);
          await worker.apply(partition, { produce: [], deadLetters: [], ...closed, commit: commitInfo(st) }, () => partitions.owns(partition, st));
        })
        .catch((err: Error) => log.warn({ partition, err: err.message }, 'idle close failed; retried on the next tick'));
    }
  }, 1000);

  return {
    consumer: worker.consumer,
    async stop() {
      windows.stop();
      clearInterval(ticker);
      await worker.stop();
    },
  };
}
