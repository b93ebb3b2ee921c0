/**
 * The normaliser stage: raw records → canonical readings | dead letters.
 * Per batch: normalise every record (pure core; a record whose handling throws is retried, then
 * dead-lettered — the poison-pill policy), drop exact duplicates, produce the outputs (in order,
 * durably), then commit — so a crash at any point replays, never loses. A bad record becomes one
 * dead-letter record, whatever it held; it never stops the partition.
 */
import { Counter } from 'prom-client';
import { nextOffset, type BusMessage } from '../../shared/bus/bus.ts';
import { type RunningWorker, type WorkerDeps, groupConsumer } from '../../shared/stages/worker.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { DeadLetterBudget, deadLetter } from '../../shared/schemas/deadletter.ts';
import { REJECT } from '../../shared/schemas/rejections.ts';
import { handleEach } from '../../shared/stages/poison.ts';
import type { NormalizerConfig } from './config.ts';
import { Deduper } from './dedupe.ts';
import { normalizeRecord } from './normalize.ts';

export async function startNormalizer(cfg: NormalizerConfig, deps: WorkerDeps & { devices: DeviceRegistry }): Promise<RunningWorker> {
  const { bus, log, registry, devices } = deps;
  const out = new Counter({ name: 'normalizer_readings_out_total', help: 'Canonical readings produced', labelNames: ['kind'], registers: [registry] });
  const dead = new Counter({ name: 'normalizer_rejections_total', help: 'Rejected readings or records, by rejection code', labelNames: ['code'], registers: [registry] });
  const deadRecords = new Counter({ name: 'normalizer_deadletter_records_total', help: 'Dead-letter records produced (one per rejected source record)', registers: [registry] });
  const omitted = new Counter({ name: 'deadletter_original_omitted_bytes_total', help: "Original bytes left out of dead letters beyond a device's budget", registers: [registry] });
  const dupes = new Counter({ name: 'normalizer_duplicates_total', help: 'Exact duplicates (device+ts) dropped', registers: [registry] });
  const deduper = new Deduper(cfg.DEDUPE_HORIZON_MS, cfg.DEDUPE_MAX_PER_DEVICE);
  const budget = new DeadLetterBudget(cfg.DEADLETTER_BYTES_PER_S, cfg.DEADLETTER_BURST_BYTES);
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
  const options = { maxFutureMs: cfg.MAX_FUTURE_MS, maxReadings: cfg.MAX_READINGS_PER_MESSAGE, attributesOf };

  const consumer = await bus.consume({
    ...groupConsumer(cfg, deps, cfg.TOPIC_RAW),
    // All partitions at once: normalising one batch overlaps with waiting for another's produce.
    concurrency: 6,
    maxBytesPerPartition: 1024 * 1024,
    handle: async (batch) => {
      const normalized: BusMessage[] = [];
      const outByKind = { energy: 0, fleet: 0, parking: 0 };
      const deadletters: BusMessage[] = [];
      const source = (offset: string) => ({ topic: batch.topic, partition: batch.partition, offset });
      const { results, poisoned } = handleEach(batch.messages, (m) => normalizeRecord(m.value?.toString('utf8') ?? '', options));
      for (const { record: m, value: result } of results) {
        for (const r of result.readings) {
          if (deduper.isDuplicate(r.deviceId, r.ts)) {
            dupes.inc();
            continue;
          }
          // No event-time record timestamp: Kafka's time retention must not drop replayed history.
          normalized.push({ key: r.deviceId, value: JSON.stringify(r) });
          outByKind[r.kind]++;
        }
        if (result.rejections.length === 0) continue;
        for (const rej of result.rejections) dead.inc({ code: rej.code });
        const first = result.rejections[0]!;
        log.warn(
          { device: result.envelope?.deviceId, code: first.code, field: first.field, reason: first.reason, rejected: result.rejections.length, accepted: result.readings.length, offset: m.offset, partition: batch.partition },
          'dead-lettered',
        );
        const built = deadLetter(
          {
            stage: 'normalize',
            rejections: result.rejections,
            deviceId: result.envelope?.deviceId,
            municipality: result.envelope?.municipality,
            kind: result.envelope?.kind,
            source: source(m.offset),
            original: m.value?.toString('utf8') ?? '',
          },
          budget,
        );
        if (built.omittedBytes > 0) omitted.inc(built.omittedBytes);
        deadletters.push(built.message);
      }
      for (const p of poisoned) {
        dead.inc({ code: REJECT.PROCESSING_FAILED });
        log.error({ offset: p.record.offset, partition: batch.partition, err: p.error }, 'record could not be handled; dead-lettered');
        const original = p.record.value?.toString('utf8') ?? '';
        deadletters.push(deadLetter({ stage: 'normalize', rejections: [{ code: REJECT.PROCESSING_FAILED, field: '(record)', reason: `handling threw: ${p.error}` }], source: source(p.record.offset), original, error: p.error }, budget).message);
      }
      deadRecords.inc(deadletters.length);
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
