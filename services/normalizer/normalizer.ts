/**
 * The normaliser stage: raw records → normalised messages | dead letters, as a batch processor
 * (`shared/stages/batch-runner.ts` consumes, dead-letters, produces and commits): each raw record
 * (one device message) is normalised by the pure core into one `telemetry.normalized` record
 * holding its valid readings; a record with rejected readings also becomes one dead-letter record,
 * whatever it held. A bad record never stops the partition.
 *
 * Duplicates: a reading repeated inside one message counts once; a message all of whose readings
 * were produced before (a device resending what it got no PUBACK for) is dropped whole. A message
 * that repeats only some is produced whole — so a replayed raw record yields the identical record
 * whatever this process remembers — and the store's overwrite and the windows' dedupe absorb the
 * repeats.
 */
import { Counter } from 'prom-client';
import type { BusMessage } from '../../shared/bus/bus.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { DeadLetterBudget, type DeadLetterInput } from '../../shared/schemas/deadletter.ts';
import { runBatches, type BatchProcessor } from '../../shared/stages/batch-runner.ts';
import type { RunningWorker, WorkerDeps } from '../../shared/stages/worker.ts';
import type { NormalizerConfig } from './config.ts';
import { Deduper, firstOfEachTime } from './dedupe.ts';
import { normalizeRecord, type Normalized } from './normalize.ts';
import { PrivateUsePolicy, WITHHELD_PRIVATE_USE } from '../../shared/privacy/private-use.ts';
import { toNormalizedMessage } from '../../shared/schemas/readings.ts';

export async function startNormalizer(cfg: NormalizerConfig, deps: WorkerDeps & { devices: DeviceRegistry }): Promise<RunningWorker> {
  const { log, registry, devices } = deps;
  const out = new Counter({ name: 'normalizer_readings_out_total', help: 'Canonical readings produced', labelNames: ['kind'], registers: [registry] });
  const messagesOut = new Counter({ name: 'normalizer_messages_out_total', help: 'Normalised messages (records on telemetry.normalized) produced', registers: [registry] });
  const rejected = new Counter({ name: 'normalizer_rejections_total', help: 'Rejected readings or records, by rejection code', labelNames: ['code'], registers: [registry] });
  const dupes = new Counter({ name: 'normalizer_duplicates_total', help: 'Exact duplicate readings (device+ts) dropped: repeated inside a message, or in a message all of whose readings were produced before', registers: [registry] });
  const positionsDropped = new Counter({ name: 'normalizer_private_positions_dropped_total', help: "Vehicles' readings in private use whose position was dropped before anything kept it", labelNames: ['municipality'], registers: [registry] });
  const deduper = new Deduper(cfg.DEDUPE_HORIZON_MS, cfg.DEDUPE_MAX_PER_DEVICE);
  const privateUse = new PrivateUsePolicy(cfg.FLEET_WORKING_HOURS);

  /**
   * A device registered moments ago (a simulator provisioning its fleet, then publishing at once)
   * may not be in the registry's last poll yet: look again before enriching without attributes.
   */
  const attributesOf = (id: string) => {
    if (!devices.get(id)) devices.reload();
    return devices.get(id)?.attributes;
  };
  const options = { maxFutureMs: cfg.MAX_FUTURE_MS, maxReadings: cfg.MAX_READINGS_PER_MESSAGE, attributesOf, fieldMap: cfg.LORAWAN_FIELD_MAP, privateUse };
  /**
   * A dead letter keeps no payload of a vehicle that may be in private use: a rejected reading's
   * time cannot be trusted to say whose hours it was. A record without a readable envelope is
   * looked up by its key (the device id).
   */
  const withhold = (e: Normalized['envelope'], key: string | undefined) => {
    const device = e ?? (key === undefined ? undefined : devices.get(key));
    if (!device || device.kind !== 'fleet') return false;
    return privateUse.mayBePrivate(device.municipality, attributesOf(e?.deviceId ?? key!) ?? {});
  };

  const processor: BatchProcessor<Normalized> = {
    decode: (m) => normalizeRecord(m.value?.toString('utf8') ?? '', options),
    async process({ topic, partition, records }) {
      const normalized: BusMessage[] = [];
      const deadLetters: DeadLetterInput[] = [];
      const outByKind = { energy: 0, fleet: 0, parking: 0 };
      const kept: { deviceId: string; ts: number }[] = [];
      /** Timestamps forwarded earlier in this batch, by device: the deduper remembers them only once they are produced. */
      const inBatch = new Map<string, Set<number>>();
      const dropped = new Map<string, number>();
      let duplicates = 0;
      for (const { record: m, value: result } of records) {
        if (result.positionsDropped) dropped.set(result.envelope!.municipality, (dropped.get(result.envelope!.municipality) ?? 0) + result.positionsDropped);
        // A reading repeated inside the message counts once (the first; the same for every replay).
        const readings = firstOfEachTime(result.readings);
        duplicates += result.readings.length - readings.length;
        const allSeen = readings.length > 0 && readings.every((r) => inBatch.get(r.deviceId)?.has(r.ts) === true || deduper.has(r.deviceId, r.ts));
        if (allSeen) duplicates += readings.length;
        else if (readings.length > 0) {
          for (const r of readings) {
            let earlier = inBatch.get(r.deviceId);
            if (!earlier) inBatch.set(r.deviceId, (earlier = new Set()));
            earlier.add(r.ts);
            kept.push(r);
            outByKind[r.kind]++;
          }
          // No event-time record timestamp: the bus's time retention must not drop replayed history.
          normalized.push({ key: readings[0]!.deviceId, value: JSON.stringify(toNormalizedMessage(readings)) });
        }
        if (result.rejections.length === 0) continue;
        for (const rej of result.rejections) rejected.inc({ code: rej.code });
        const first = result.rejections[0]!;
        const e = result.envelope;
        log.warn({ device: e?.deviceId, code: first.code, field: first.field, reason: first.reason, rejected: result.rejections.length, accepted: result.readings.length, offset: m.offset, partition }, 'dead-lettered');
        const original = m.value?.toString('utf8') ?? '';
        const letter = withhold(e, m.key?.toString('utf8')) ? { original: '', withheld: WITHHELD_PRIVATE_USE, omittedBytes: Buffer.byteLength(original) } : { original };
        deadLetters.push({ rejections: result.rejections, deviceId: e?.deviceId, municipality: e?.municipality, kind: e?.kind, source: { topic, partition, offset: m.offset }, ...letter });
      }
      // Remembered and counted once they are on the bus; a failed attempt is retried afresh.
      const onProduced = () => {
        for (const r of kept) deduper.remember(r.deviceId, r.ts);
        if (duplicates > 0) dupes.inc(duplicates);
        for (const [municipality, n] of dropped) positionsDropped.inc({ municipality }, n);
        for (const [kind, n] of Object.entries(outByKind)) if (n > 0) out.inc({ kind }, n);
        if (normalized.length > 0) messagesOut.inc(normalized.length);
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
