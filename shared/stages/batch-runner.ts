/**
 * One runner for every stream worker (the shape of Benthos's processors): a worker is a
 * `BatchProcessor` — how to decode one record, and what a batch of decoded records becomes:
 * messages to produce, points to store, dead letters. The runner does the rest, the same way for
 * all of them, and the acknowledgement travels with the batch:
 *
 *   consume → decode each record (a record whose decoding throws is tried again, then
 *   dead-lettered: the poison-pill policy) → process → store the points (retried while the store
 *   is away; a point it refuses is isolated and dead-lettered) → produce the messages, in order,
 *   then the dead letters → commit.
 *
 * A batch that fails as a whole (the bus or the store failing) is retried by the bus with
 * backoff (`retry-batch.ts`) and, being uncommitted, can only be duplicated, never lost.
 */
import { Counter } from 'prom-client';
import { nextOffset, type BatchContext, type BusBatch, type BusMessage, type BusRecord, type ConsumeOptions } from '../bus/bus.ts';
import { DeadLetterBudget, deadLetter, type DeadLetterInput } from '../schemas/deadletter.ts';
import { REJECT } from '../schemas/rejections.ts';
import { retryStore } from '../store/retry.ts';
import type { StorePoint, TelemetryStore } from '../store/store.ts';
import { writeIsolating, type Refused } from './isolate.ts';
import { handleEach } from './poison.ts';
import { groupConsumer, type RunningWorker, type WorkerDeps } from './worker.ts';

/** A point to store, with the record it came from (to dead-letter that record if the store refuses it). */
export interface PointFrom {
  point: StorePoint;
  record: BusRecord;
  /** Which reading of the record's message it is, when the record holds several. */
  index?: number;
  /** Who it belongs to, for the dead letter. */
  device?: { deviceId: string; municipality: string; kind: string };
}

export interface BatchOutput {
  /** Produced in this order, each topic's messages in order, before the commit. */
  produce: { topic: string; messages: BusMessage[] }[];
  /** Stored before anything is produced. */
  points?: PointFrom[];
  /** Dead letters (the source and original are filled in by the worker). */
  deadLetters: DeadLetterInput[];
  /** What to commit; one past the batch's last record when absent. */
  commit?: { offset: string; metadata?: string };
  /** After the points are stored: the refused ones left out (for per-point metrics). */
  afterStore?: (stored: PointFrom[]) => void;
  /**
   * Once the messages and dead letters are on the bus, before the commit; not when the attempt
   * failed (the batch is then processed again). For state that must only hold what went out.
   */
  onProduced?: () => void;
}

export interface DecodedRecord<T> {
  record: BusRecord;
  value: T;
}

export interface BatchProcessor<T> {
  /** One record → the worker's value. Throwing makes it a poison pill (retried, then dead-lettered). */
  decode(record: BusRecord): T;
  process(batch: { topic: string; partition: number; bus: BusBatch; records: DecodedRecord<T>[] }, ctx: BatchContext): Promise<BatchOutput>;
}

export interface RunnerOptions {
  cfg: { BUS_GROUP_ID: string; BUS_SESSION_TIMEOUT_MS: number; TOPIC_DEADLETTER: string };
  topic: string;
  /** Needed when the processor returns points. */
  store?: Pick<TelemetryStore, 'write' | 'isRefusal'>;
  /** Points per store write request. */
  storeBatchMax?: number;
  storeRetryMaxMs?: number;
  /** Per-device budget of dead-letter bytes; unlimited when absent. */
  deadLetterBudget?: DeadLetterBudget;
  consume?: Pick<ConsumeOptions, 'concurrency' | 'maxBytesPerPartition' | 'onAssignmentChange'>;
  /** Called when the consumer stops, after the last batch. */
  onStop?: () => Promise<void> | void;
}

export async function runBatches<T>(processor: BatchProcessor<T>, deps: WorkerDeps, o: RunnerOptions): Promise<RunningWorker> {
  const { bus, log, registry } = deps;
  const deadLettered = new Counter({ name: 'worker_deadletter_records_total', help: 'Dead-letter records produced by this worker, by the code of their first rejection', labelNames: ['code'], registers: [registry] });
  const omitted = new Counter({ name: 'deadletter_original_omitted_bytes_total', help: "Original bytes left out of dead letters beyond a device's budget", registers: [registry] });
  const storeFailures = new Counter({ name: 'worker_store_write_failures_total', help: 'Failed store write attempts (each is retried)', registers: [registry] });
  // Unbounded retries: while the bus is away the batch waits (and is not committed) rather than failing.
  const producer = await bus.producer();

  const consumer = await bus.consume({
    ...groupConsumer(o.cfg, deps, o.topic),
    ...o.consume,
    handle: async (batch, ctx) => {
      const source = (record: BusRecord) => ({ topic: batch.topic, partition: batch.partition, offset: record.offset });
      const { results, poisoned } = handleEach(batch.messages, (m) => processor.decode(m));
      const out = await processor.process({ topic: batch.topic, partition: batch.partition, bus: batch, records: results }, ctx);
      const letters: DeadLetterInput[] = [...out.deadLetters];
      for (const p of poisoned) {
        log.error({ offset: p.record.offset, partition: batch.partition, err: p.error }, 'record could not be handled; dead-lettered');
        letters.push({ rejections: [{ code: REJECT.PROCESSING_FAILED, field: '(record)', reason: `handling threw: ${p.error}` }], source: source(p.record), original: p.record.value?.toString('utf8') ?? '', error: p.error });
      }
      if (out.points && out.points.length > 0) {
        const store = o.store!;
        const refused: Refused<PointFrom>[] = [];
        const chunk = o.storeBatchMax ?? out.points.length;
        for (let i = 0; i < out.points.length; i += chunk) {
          const part = out.points.slice(i, i + chunk);
          const r = await retryStore(
            () => writeIsolating(part, (ps) => store.write(ps.map((x) => x.point)), (err) => store.isRefusal(err)),
            {
              what: `store write of ${part.length} points`,
              log,
              maxDelayMs: o.storeRetryMaxMs ?? 10_000,
              onFailure: () => {
                storeFailures.inc();
                if (!ctx.stillOwned()) throw new Error('partition no longer owned; the next owner replays it');
              },
            },
          );
          refused.push(...r);
        }
        // One dead letter per record, whatever number of its points were refused.
        const byRecord = new Map<BusRecord, Refused<PointFrom>[]>();
        for (const r of refused) byRecord.set(r.point.record, [...(byRecord.get(r.point.record) ?? []), r]);
        for (const [record, rs] of byRecord) {
          const rejections = rs.map(({ point: x, error }) => ({ code: REJECT.STORE_REFUSED, field: '(point)', reason: `the store refused the point: ${error}`, ...(x.index === undefined ? {} : { index: x.index }) }));
          letters.push({ rejections, ...rs[0]!.point.device, source: source(record), original: record.value?.toString('utf8') ?? '', error: rs[0]!.error });
        }
        const refusedSet = new Set(refused.map((r) => r.point));
        out.afterStore?.(out.points.filter((x) => !refusedSet.has(x)));
      }
      for (const p of out.produce) await producer.send(p.topic, p.messages);
      const messages = letters.map((l) => {
        deadLettered.inc({ code: l.rejections[0]?.code ?? REJECT.PROCESSING_FAILED });
        const built = deadLetter(deps.deadLetterStage, l, o.deadLetterBudget);
        if (built.omittedBytes > 0) omitted.inc(built.omittedBytes);
        return built.message;
      });
      await producer.send(o.cfg.TOPIC_DEADLETTER, messages);
      out.onProduced?.();
      return { commit: out.commit ?? { offset: nextOffset(batch) } };
    },
  });

  return {
    consumer,
    async stop() {
      await consumer.stop();
      await o.onStop?.();
      await producer.close();
    },
  };
}
