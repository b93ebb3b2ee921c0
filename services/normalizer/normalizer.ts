/**
 * The normaliser stage: raw records → canonical readings | dead letters, as a batch processor
 * (`shared/stages/batch-runner.ts` consumes, dead-letters, produces and commits): each record is
 * normalised by the pure core, exact duplicates are dropped, and a record with rejected readings
 * becomes one dead-letter record, whatever it held. A bad record never stops the partition.
 */
import { Counter } from 'prom-client';
import type { BusMessage } from '../../shared/bus/bus.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { DeadLetterBudget, type DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { runBatches, type BatchProcessor } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import type { NormalizerConfig } from './config.ts';
import { Deduper } from './dedupe.ts';
import { normalizeRecord, type Normalized } from './normalize.ts';

export async function startNormalizer(cfg: NormalizerConfig, deps: WorkerDeps & { devices: DeviceRegistry }): Promise<RunningWorker> {
  const { log, registry, devices } = deps;
  const out = new Counter({ name: 'normalizer_readings_out_total', help: 'Canonical readings produced', labelNames: ['kind'], registers: [registry] });
  const rejected = new Counter({ name: 'normalizer_rejections_total', help: 'Rejected readings or records, by rejection code', labelNames: ['code'], registers: [registry] });
  const dupes = new Counter({ name: 'normalizer_duplicates_total', help: 'Exact duplicates (device+ts) dropped', registers: [registry] });
  const deduper = new Deduper(cfg.DEDUPE_HORIZON_MS, cfg.DEDUPE_MAX_PER_DEVICE);

  /**
   * A device registered moments ago (a simulator provisioning its fleet, then publishing at once)
   * may not be in the registry's last poll yet: look again before enriching without attributes.
   */
  const attributesOf = (id: string) => {
    if (!devices.get(id)) devices.reload();
    return devices.get(id)?.attributes;
  };
  const options = { maxFutureMs: cfg.MAX_FUTURE_MS, maxReadings: cfg.MAX_READINGS_PER_MESSAGE, attributesOf, fieldMap: cfg.LORAWAN_FIELD_MAP };

  const processor: BatchProcessor<Normalized> = {
    stage: 'normalize',
    decode: (m) => normalizeRecord(m.value?.toString('utf8') ?? '', options),
    async process({ topic, partition, records }) {
      const normalized: BusMessage[] = [];
      const deadLetters: DeadLetterInput[] = [];
      const outByKind = { energy: 0, fleet: 0, parking: 0 };
      const kept: { deviceId: string; ts: number }[] = [];
      const inBatch = new Set<string>();
      let duplicates = 0;
      for (const { record: m, value: result } of records) {
        for (const r of result.readings) {
          const key = `${r.deviceId}@${r.ts}`;
          if (inBatch.has(key) || deduper.has(r.deviceId, r.ts)) {
            duplicates++;
            continue;
          }
          inBatch.add(key);
          kept.push(r);
          // No event-time record timestamp: the bus's time retention must not drop replayed history.
          normalized.push({ key: r.deviceId, value: JSON.stringify(r) });
          outByKind[r.kind]++;
        }
        if (result.rejections.length === 0) continue;
        for (const rej of result.rejections) rejected.inc({ code: rej.code });
        const first = result.rejections[0]!;
        const e = result.envelope;
        log.warn({ device: e?.deviceId, code: first.code, field: first.field, reason: first.reason, rejected: result.rejections.length, accepted: result.readings.length, offset: m.offset, partition }, 'dead-lettered');
        deadLetters.push({ stage: 'normalize', rejections: result.rejections, deviceId: e?.deviceId, municipality: e?.municipality, kind: e?.kind, source: { topic, partition, offset: m.offset }, original: m.value?.toString('utf8') ?? '' });
      }
      // Remembered and counted once they are on the bus; a failed attempt is retried afresh.
      const onProduced = () => {
        for (const r of kept) deduper.remember(r.deviceId, r.ts);
        if (duplicates > 0) dupes.inc(duplicates);
        for (const [kind, n] of Object.entries(outByKind)) if (n > 0) out.inc({ kind }, n);
      };
      return { produce: [{ topic: cfg.TOPIC_NORMALIZED, messages: normalized }], deadLetters, onProduced };
    },
  };

  return runBatches(processor, deps, {
    cfg,
    topic: cfg.TOPIC_RAW,
    deadLetterBudget: new DeadLetterBudget(cfg.DEADLETTER_BYTES_PER_S, cfg.DEADLETTER_BURST_BYTES),
    // All partitions at once: normalising one batch overlaps with waiting for another's produce.
    consume: { concurrency: 6, maxBytesPerPartition: 1024 * 1024 },
  });
}
