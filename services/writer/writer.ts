/**
 * The writer stage: `telemetry.normalized` → raw measurements in the store (InfluxDB or the embedded store).
 * Per batch: points → one write per WRITE_BATCH_MAX points, retried with backoff for as long as
 * the store fails (the partition simply waits, so memory stays bounded by one fetch) → commit.
 * Offsets move only after the store accepted everything before them. A record that is not a
 * canonical reading, or whose point the store refuses, is dead-lettered (stage `write`) instead of
 * holding the partition.
 */
import { Counter, Histogram } from 'prom-client';
import { nextOffset, type BusMessage, type BusRecord } from '../../shared/bus/bus.ts';
import { type RunningWorker, type WorkerDeps, groupConsumer } from '../../shared/stages/worker.ts';
import { deadLetter } from '../../shared/schemas/deadletter.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import { writeIsolating } from '../../shared/stages/isolate.ts';
import { handleEach } from '../../shared/stages/poison.ts';
import { type StorePoint, type TelemetryStore } from '../../shared/store/store.ts';
import { retryStore } from '../../shared/store/retry.ts';
import { readingToPoint } from '../../shared/store/points.ts';
import { canonicalReadingSchema, type CanonicalReading } from '../../shared/schemas/readings.ts';
import type { WriterConfig } from './config.ts';

export async function startWriter(cfg: WriterConfig, deps: WorkerDeps & { store: TelemetryStore }): Promise<RunningWorker> {
  const { bus, log, registry, store } = deps;
  const written = new Counter({ name: 'writer_points_written_total', help: 'Points accepted by the store', labelNames: ['measurement'], registers: [registry] });
  const invalid = new Counter({ name: 'writer_invalid_records_total', help: 'Records on the normalized topic that do not match the canonical schema (dead-lettered)', registers: [registry] });
  const latency = new Histogram({ name: 'writer_store_write_seconds', help: 'Store write latency', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const endToEnd = new Histogram({
    name: 'writer_end_to_end_seconds',
    help: "From a reading's device timestamp to the store accepting its point (meaningful for live clocks)",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
    registers: [registry],
  });
  const hops = new Histogram({
    name: 'writer_hop_seconds',
    help: 'Latency per hop: device→gateway (receivedAt − ts), gateway→normalized (normalized record time − receivedAt), normalized→stored (store ack − normalized record time)',
    labelNames: ['hop'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [registry],
  });
  // Bound once: a labelled observe per reading costs a label lookup each time.
  const hopDevice = hops.labels('device_to_gateway');
  const hopNormalize = hops.labels('gateway_to_normalized');
  const hopStore = hops.labels('normalized_to_stored');
  const failures = new Counter({ name: 'writer_store_write_failures_total', help: 'Failed store write attempts (each is retried)', registers: [registry] });

  const deadRecords = new Counter({ name: 'writer_deadletter_records_total', help: 'Records dead-lettered by the writer (not canonical, refused by the store, or handling threw)', labelNames: ['code'], registers: [registry] });
  const producer = await bus.producer();

  const consumer = await bus.consume({
    ...groupConsumer(cfg, deps, cfg.TOPIC_NORMALIZED),
    concurrency: 2,
    handle: async (batch, ctx) => {
      const deadletters: BusMessage[] = [];
      const source = (offset: string) => ({ topic: batch.topic, partition: batch.partition, offset });
      const dead = (record: BusRecord, rejection: Rejection, extra: { error?: string; reading?: CanonicalReading } = {}) => {
        deadRecords.inc({ code: rejection.code });
        log.error({ offset: record.offset, partition: batch.partition, device: extra.reading?.deviceId, code: rejection.code, reason: rejection.reason }, 'record dead-lettered by the writer');
        const r = extra.reading;
        deadletters.push(
          deadLetter({ stage: 'write', rejections: [rejection], deviceId: r?.deviceId, municipality: r?.municipality, kind: r?.kind, source: source(record.offset), original: record.value?.toString('utf8') ?? '', ...(extra.error ? { error: extra.error } : {}) }).message,
        );
      };
      // Poison-pill policy: decoding a record that throws is retried, then dead-lettered.
      const { results, poisoned } = handleEach(batch.messages, (m) => canonicalReadingSchema.safeParse(JSON.parse(m.value?.toString('utf8') ?? 'null')));
      for (const p of poisoned) dead(p.record, { code: REJECT.PROCESSING_FAILED, field: '(record)', reason: `handling threw: ${p.error}` }, { error: p.error });
      const items: { record: BusRecord; reading: CanonicalReading; point: StorePoint }[] = [];
      for (const { record, value: parsed } of results) {
        if (!parsed.success) {
          // Only the normaliser writes this topic; a mismatch is a bug worth a dead letter, not a stuck partition.
          invalid.inc();
          const issue = parsed.error.issues[0];
          const field = issue?.path.map(String).join('.') || '(record)';
          dead(record, { code: REJECT.NOT_CANONICAL, field, reason: `${field}: ${issue?.message ?? 'not a canonical reading'}` });
          continue;
        }
        items.push({ record, reading: parsed.data, point: readingToPoint(parsed.data) });
      }
      const perMeasurement = new Map<string, number>();
      for (let i = 0; i < items.length; i += cfg.WRITE_BATCH_MAX) {
        const chunk = items.slice(i, i + cfg.WRITE_BATCH_MAX);
        const refused = await retryStore(
          () =>
            writeIsolating(
              chunk,
              async (part) => {
                const end = latency.startTimer();
                await store.write(part.map((x) => x.point));
                end();
              },
              (err) => store.isRefusal(err),
            ),
          {
            what: `store write of ${chunk.length} points`,
            log,
            maxDelayMs: cfg.WRITE_RETRY_MAX_MS,
            onFailure: () => {
              failures.inc();
              if (!ctx.stillOwned()) throw new Error('partition no longer owned; the next owner replays it');
            },
          },
        );
        for (const { point: x, error } of refused) dead(x.record, { code: REJECT.STORE_REFUSED, field: '(point)', reason: `the store refused the point: ${error}` }, { error, reading: x.reading });
        const refusedSet = new Set(refused.map((r) => r.point));
        for (const x of chunk) if (!refusedSet.has(x)) perMeasurement.set(x.reading.kind, (perMeasurement.get(x.reading.kind) ?? 0) + 1);
      }
      await producer.send(cfg.TOPIC_DEADLETTER, deadletters);
      for (const [m, n] of perMeasurement) written.inc({ measurement: m }, n);
      const now = Date.now();
      for (const { reading: r, record } of items) {
        const normalizedAt = Number(record.timestamp);
        endToEnd.observe(Math.max(0, (now - r.ts) / 1000));
        hopDevice.observe(Math.max(0, (r.receivedAt - r.ts) / 1000));
        hopNormalize.observe(Math.max(0, (normalizedAt - r.receivedAt) / 1000));
        hopStore.observe(Math.max(0, (now - normalizedAt) / 1000));
      }
      return { commit: { offset: nextOffset(batch) } };
    },
  });
  return {
    consumer,
    async stop() {
      await consumer.stop();
      await producer.close();
    },
  };
}
