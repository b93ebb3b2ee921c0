/**
 * The writer: `telemetry.normalized` → InfluxDB raw measurements.
 * Per batch: points → one write per WRITE_BATCH_MAX points, retried with backoff for as long as
 * InfluxDB refuses (the partition simply waits, so memory stays bounded by one fetch) → commit.
 * Offsets move only after InfluxDB accepted everything before them.
 */
import { Counter, Histogram } from 'prom-client';
import { nextOffset, type RunningWorker, type WorkerDeps } from '../../shared/bus/bus.ts';
import { groupConsumer } from '../../shared/worker-config.ts';
import type { TelemetryStore } from '../../shared/store/store.ts';
import { retryInflux } from '../../shared/influx/retry.ts';
import { readingToPoint } from '../../shared/store/points.ts';
import { canonicalReadingSchema } from '../../shared/schemas/readings.ts';
import type { WriterConfig } from './config.ts';

export async function startWriter(cfg: WriterConfig, deps: WorkerDeps & { store: TelemetryStore }): Promise<RunningWorker> {
  const { bus, log, registry, store } = deps;
  const written = new Counter({ name: 'writer_points_written_total', help: 'Points accepted by InfluxDB', labelNames: ['measurement'], registers: [registry] });
  const invalid = new Counter({ name: 'writer_invalid_records_total', help: 'Records on the normalized topic that do not match the canonical schema (skipped)', registers: [registry] });
  const latency = new Histogram({ name: 'writer_influx_write_seconds', help: 'InfluxDB write latency', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const endToEnd = new Histogram({
    name: 'writer_end_to_end_seconds',
    help: "From a reading's device timestamp to InfluxDB accepting its point (meaningful for live clocks)",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
    registers: [registry],
  });
  const hops = new Histogram({
    name: 'writer_hop_seconds',
    help: 'Latency per hop: device→gateway (receivedAt − ts), gateway→normalized (normalized record time − receivedAt), normalized→stored (InfluxDB ack − normalized record time)',
    labelNames: ['hop'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [registry],
  });
  // Bound once: a labelled observe per reading costs a label lookup each time.
  const hopDevice = hops.labels('device_to_gateway');
  const hopNormalize = hops.labels('gateway_to_normalized');
  const hopStore = hops.labels('normalized_to_stored');
  const failures = new Counter({ name: 'writer_influx_write_failures_total', help: 'Failed InfluxDB write attempts (each is retried)', registers: [registry] });

  const consumer = await bus.consume({
    ...groupConsumer(cfg, deps, cfg.TOPIC_NORMALIZED),
    concurrency: 2,
    handle: async (batch, ctx) => {
      const points = [];
      const times: { ts: number; receivedAt: number; normalizedAt: number }[] = [];
      const perMeasurement = new Map<string, number>();
      for (const m of batch.messages) {
        const parsed = canonicalReadingSchema.safeParse(JSON.parse(m.value?.toString('utf8') ?? 'null'));
        if (!parsed.success) {
          // Only the normaliser writes this topic; a mismatch is a bug worth a metric, not a stuck partition.
          invalid.inc();
          log.error({ offset: m.offset, partition: batch.partition, err: parsed.error.issues[0]?.message }, 'invalid canonical reading skipped');
          continue;
        }
        points.push(readingToPoint(parsed.data));
        times.push({ ts: parsed.data.ts, receivedAt: parsed.data.receivedAt, normalizedAt: Number(m.timestamp) });
        perMeasurement.set(parsed.data.kind, (perMeasurement.get(parsed.data.kind) ?? 0) + 1);
      }
      for (let i = 0; i < points.length; i += cfg.WRITE_BATCH_MAX) {
        const chunk = points.slice(i, i + cfg.WRITE_BATCH_MAX);
        await retryInflux(
          async () => {
            const end = latency.startTimer();
            await store.write(chunk);
            end();
          },
          {
            what: `InfluxDB write of ${chunk.length} points`,
            log,
            maxDelayMs: cfg.WRITE_RETRY_MAX_MS,
            onFailure: () => {
              failures.inc();
              if (!ctx.stillOwned()) throw new Error('partition no longer owned; the next owner replays it');
            },
          },
        );
      }
      for (const [m, n] of perMeasurement) written.inc({ measurement: m }, n);
      const now = Date.now();
      for (const t of times) {
        endToEnd.observe(Math.max(0, (now - t.ts) / 1000));
        hopDevice.observe(Math.max(0, (t.receivedAt - t.ts) / 1000));
        hopNormalize.observe(Math.max(0, (t.normalizedAt - t.receivedAt) / 1000));
        hopStore.observe(Math.max(0, (now - t.normalizedAt) / 1000));
      }
      return { commit: { offset: nextOffset(batch) } };
    },
  });
  return { consumer, stop: () => consumer.stop() };
}
