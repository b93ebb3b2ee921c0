/**
 * The writer stage: `telemetry.normalized` → raw measurements in the store (InfluxDB or the embedded store).
 * Each record is one device message: its readings become points together, one parse per message.
 * Per batch: points → one write per WRITE_BATCH_MAX points, retried with backoff for as long as
 * the store fails (the partition simply waits, so memory stays bounded by one fetch) → commit.
 * Offsets move only after the store accepted everything before them. A record that is not a
 * canonical reading, or whose point the store refuses, is dead-lettered (stage `write`) instead of
 * holding the partition.
 */
import { Counter } from 'prom-client';
import { BucketHistogram } from '../../shared/http/bucket-histogram.ts';
import type { BusRecord } from '../../shared/bus/bus.ts';
import type { DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { decodeNormalizedRecord, readingsOf, type CanonicalReading, type NormalizedRecord } from '../../shared/schemas/readings.ts';
import { REJECT } from '../../shared/schemas/rejections.ts';
import { runBatches, type BatchProcessor, type PointFrom } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import { groupingTags, readingToPoint } from '../../shared/store/points.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';
import type { WriterConfig } from './config.ts';
import { retentionCuts } from '../../shared/privacy/retention.ts';

export async function startWriter(cfg: WriterConfig, deps: WorkerDeps & { store: TelemetryStore }): Promise<RunningWorker> {
  const { log, registry, store } = deps;
  const written = new Counter({ name: 'writer_points_written_total', help: 'Points accepted by the store', labelNames: ['measurement'], registers: [registry] });
  const invalid = new Counter({ name: 'writer_invalid_records_total', help: 'Records on the normalized topic that are not normalised messages (dead-lettered)', registers: [registry] });
  // Four observations for every reading stored: histograms made for the hot path (bucket-histogram.ts).
  const endToEnd = new BucketHistogram({
    name: 'writer_end_to_end_seconds',
    help: "From a reading's device timestamp to the store accepting its point (meaningful for live clocks)",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
    registers: [registry],
  });
  const hops = new BucketHistogram({
    name: 'writer_hop_seconds',
    help: 'Latency per hop: device→gateway (receivedAt − ts), gateway→normalized (normalized record time − receivedAt), normalized→stored (store ack − normalized record time)',
    labelName: 'hop',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [registry],
  });
  const hopDevice = hops.of('device_to_gateway');
  const hopNormalize = hops.of('gateway_to_normalized');
  const hopStore = hops.of('normalized_to_stored');

  const processor: BatchProcessor<NormalizedRecord> = {
    decode: (m) => decodeNormalizedRecord(m.value),
    async process({ topic, partition, records }) {
      const deadLetters: DeadLetterInput[] = [];
      const points: (PointFrom & { reading: CanonicalReading })[] = [];
      for (const { record, value: parsed } of records) {
        if (!parsed.ok) {
          // Only the normaliser writes this topic; a mismatch is a bug worth a dead letter, not a stuck partition.
          invalid.inc();
          const { field, reason } = parsed;
          log.error({ offset: record.offset, partition, field }, 'record is not a normalised message; dead-lettered');
          deadLetters.push({ rejections: [{ code: REJECT.NOT_CANONICAL, field, reason: `${field}: ${reason}` }], source: { topic, partition, offset: record.offset }, original: record.value?.toString('utf8') ?? '' });
          continue;
        }
        const m = parsed.message;
        const device = { deviceId: m.deviceId, municipality: m.municipality, kind: m.kind };
        // One tag set for the message's points: its line-protocol prefix is then built once (line-protocol.ts).
        const tags = groupingTags(m.municipality, m.deviceId, m.attrs);
        readingsOf(m).forEach((r, index) => points.push({ point: readingToPoint(r, tags), record, index, reading: r, device }));
      }
      const afterStore = (stored: PointFrom[]) => {
        const now = Date.now();
        const perMeasurement = new Map<string, number>();
        for (const x of stored as (PointFrom & { reading: CanonicalReading; record: BusRecord })[]) {
          const r = x.reading;
          perMeasurement.set(r.kind, (perMeasurement.get(r.kind) ?? 0) + 1);
          const normalizedAt = Number(x.record.timestamp);
          endToEnd.observe(Math.max(0, (now - r.ts) / 1000));
          hopDevice.observe(Math.max(0, (r.receivedAt - r.ts) / 1000));
          hopNormalize.observe(Math.max(0, (normalizedAt - r.receivedAt) / 1000));
          hopStore.observe(Math.max(0, (now - normalizedAt) / 1000));
        }
        for (const [m, n] of perMeasurement) written.inc({ measurement: m }, n);
      };
      return { produce: [], points, deadLetters, afterStore };
    },
  };

  const retention = enforceRetention(cfg, store, log, registry);
  const worker = await runBatches(processor, deps, {
    cfg,
    topic: cfg.TOPIC_NORMALIZED,
    store,
    storeBatchMax: cfg.WRITE_BATCH_MAX,
    storeRetryMaxMs: cfg.WRITE_RETRY_MAX_MS,
    // Six partitions at once (all of them at the default BUS_PARTITIONS): their store writes wait
    // together, so the embedded store commits them in one fsync, and InfluxDB gets them as
    // concurrent requests instead of one after another.
    consume: { concurrency: 6 },
  });
  return {
    ...worker,
    async stop() {
      retention.stop();
      await worker.stop();
    },
  };
}

/**
 * Every RETENTION_CHECK_MS: deletes the raw readings past their kind's retention, and past their
 * municipality's where it keeps a kind shorter (shared/privacy/retention.ts). A failure is logged
 * and counted, and tried again at the next check (deletes are idempotent, so several writers
 * doing it is only repeated work).
 */
function enforceRetention(cfg: WriterConfig, store: TelemetryStore, log: WorkerDeps['log'], registry: WorkerDeps['registry']) {
  const runs = new Counter({ name: 'writer_retention_runs_total', help: 'Retention checks (raw readings past their retention deleted), by outcome', labelNames: ['outcome'], registers: [registry] });
  let running: Promise<void> | undefined;
  const check = async () => {
    try {
      const cuts = retentionCuts(cfg, Date.now());
      for (const c of cuts) await store.deleteRaw(c.kind, c.before, c.municipality);
      runs.inc({ outcome: 'ok' });
      log.info({ cuts: cuts.map((c) => `${c.municipality ?? '*'}/${c.kind} < ${new Date(c.before).toISOString()}`) }, 'raw readings past their retention deleted');
    } catch (err) {
      runs.inc({ outcome: 'failed' });
      log.warn({ err: (err as Error).message }, 'retention check failed; tried again at the next');
    }
  };
  const timer = setInterval(() => {
    running ??= check().finally(() => (running = undefined));
  }, cfg.RETENTION_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
