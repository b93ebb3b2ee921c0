/**
 * The normaliser as a Kafka stage: `telemetry.raw` → `telemetry.normalized` | `telemetry.deadletter`.
 * Per batch: normalise every record (pure core), drop exact duplicates, produce the outputs
 * (idempotent, acks=all, in broker-sized requests), then commit — so a crash at any point replays, never loses.
 * A bad record becomes a dead-letter record; it never stops the partition.
 */
import { Counter } from 'prom-client';
import { nextOffset, type BusMessage, type RunningWorker, type WorkerDeps } from '../../shared/bus/bus.ts';
import { groupConsumer } from '../../shared/worker-config.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetter } from '../../shared/schemas/deadletter.ts';
import type { NormalizerConfig } from './config.ts';
import { Deduper } from './dedupe.ts';
import { normalizeRecord } from './normalize.ts';

export async function startNormalizer(cfg: NormalizerConfig, deps: WorkerDeps & { devices: DeviceRegistry }): Promise<RunningWorker> {
  const { bus, log, registry, devices } = deps;
  const out = new Counter({ name: 'normalizer_readings_out_total', help: 'Canonical readings produced', labelNames: ['kind'], registers: [registry] });
  const dead = new Counter({ name: 'normalizer_deadletter_total', help: 'Dead-lettered records/readings by field or stage', labelNames: ['field'], registers: [registry] });
  const dupes = new Counter({ name: 'normalizer_duplicates_total', help: 'Exact duplicates (device+ts) dropped', registers: [registry] });
  const deduper = new Deduper(cfg.DEDUPE_HORIZON_MS, cfg.DEDUPE_MAX_PER_DEVICE);
  // Unbounded retries: while the bus is away the batch waits (and is not committed) rather than failing.
  const producer = await bus.producer();

  /**
   * A device registered moments ago (a simulator provisioning its fleet, then publishing at once)
   * may not be in the registry's last poll yet: look again before enriching without attributes.
   */
  const attributesOf = (id: string) => {
    if (!devices.get(id)) devices.reload();
    return devices.get(id)?.attributes;
  };

  const consumer = await bus.consume({
    ...groupConsumer(cfg, deps, cfg.TOPIC_RAW),
    // All partitions at once: normalising one batch overlaps with waiting for another's produce.
    concurrency: 6,
    maxBytesPerPartition: 1024 * 1024,
    handle: async (batch) => {
      const normalized: BusMessage[] = [];
      const outByKind = { energy: 0, fleet: 0, parking: 0 };
      const deadletters: BusMessage[] = [];
      for (const m of batch.messages) {
        const value = m.value?.toString('utf8') ?? '';
        const result = normalizeRecord(value, { maxFutureMs: cfg.MAX_FUTURE_MS, attributesOf });
        for (const r of result.readings) {
          if (deduper.isDuplicate(r.deviceId, r.ts)) {
            dupes.inc();
            continue;
          }
          // No event-time record timestamp: Kafka's time retention must not drop replayed history.
          normalized.push({ key: r.deviceId, value: JSON.stringify(r) });
          outByKind[r.kind]++;
        }
        for (const rej of result.rejections) {
          const field = rej.reason.split(':')[0]!.split('.')[0]!.slice(0, 40);
          dead.inc({ field });
          log.warn({ device: result.envelope?.deviceId, reason: rej.reason, index: rej.index, offset: m.offset, partition: batch.partition }, 'reading dead-lettered');
          deadletters.push(
            deadLetter({
              stage: 'normalize',
              reason: rej.reason,
              index: rej.index,
              deviceId: result.envelope?.deviceId,
              municipality: result.envelope?.municipality,
              kind: result.envelope?.kind,
              source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
              original: value,
            }),
          );
        }
      }
      for (const [kind, n] of Object.entries(outByKind)) if (n > 0) out.inc({ kind }, n);
      // In order; the commit waits for all of them.
      await producer.send(cfg.TOPIC_NORMALIZED, normalized);
      await producer.send(cfg.TOPIC_DEADLETTER, deadletters);
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
