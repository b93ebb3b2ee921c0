/**
 * One runner for every stream worker (the shape of Benthos's processors): a worker is a
 * `BatchProcessor` — how to decode one record, and what a batch of decoded records becomes:
 * messages to produce, points to store, dead letters. The runner does the rest, the same way for
 * all of them, and the acknowledgement travels with the batch:
 *
 *   consume → decode each record (a record whose decoding throws is tried again, then
 *   dead-lettered: the poison-pill policy) → process → store the points (retried while the store
 *   is away; a point it refuses is isolated and dead-lettered) → store what the worker computes
 *   from them (`thenStore`) → produce the messages, in order, then the dead letters → commit.
 *
 * The runner alone writes to the store, retries and commits; a worker that also acts without new
 * records (the aggregator closing a quiet partition's windows) hands its output to `apply`, which
 * does the same. A batch that fails as a whole (the bus or the store failing) is retried by the
 * bus with backoff (`retry-batch.ts`) and, being uncommitted, can only be duplicated, never lost.
 */
import { Counter, Histogram } from 'prom-client';
import { nextOffset, singleTopic, type BatchContext, type BusBatch, type BusMessage, type BusRecord, type ConsumeOptions } from '../bus/bus.ts';
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
  /** Absent for a point computed from many records (an aggregate): refused, it is logged and counted, not dead-lettered. */
  record?: BusRecord;
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
   * After the points are stored: work that needs them stored and writes more through `write`
   * (the runner's writing, retries and refusals) — the aggregator's windows recomputed from the
   * stored readings, span by span.
   */
  thenStore?: (write: (points: StorePoint[]) => Promise<void>) => Promise<void>;
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
  /**
   * Runs a batch — processing and everything the runner does with its output, up to the commit —
   * as the worker's state requires: the aggregator's batches and quiet-partition closes of one
   * partition one at a time.
   */
  serialize?<R>(partition: number, run: () => Promise<R>): Promise<R>;
}

/** A running worker, and the way to act on a partition without new records. */
export interface RunningBatches extends RunningWorker {
  /**
   * Stores and produces `out` as for a batch, then commits its `commit` for `partition` when both
   * are given (an output tied to no partition, such as an alarm for a silent device, commits
   * nothing); call it inside `serialize`.
   */
  apply(partition: number | undefined, out: BatchOutput, stillOwned: () => boolean): Promise<void>;
}

export interface RunnerOptions {
  cfg: { BUS_GROUP_ID: string; BUS_SESSION_TIMEOUT_MS: number; TOPIC_DEADLETTER: string };
  /** What it consumes: one topic, or several under one group (Kafka only). */
  topic: string | readonly string[];
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
  /** A store write failing and being retried (`began`), and done waiting (`ended`): the aggregator holds idle closes meanwhile. */
  storeWaits?: { began(): void; ended(): void };
}

export async function runBatches<T>(processor: BatchProcessor<T>, deps: WorkerDeps, o: RunnerOptions): Promise<RunningBatches> {
  const { bus, log, registry } = deps;
  const registers = [registry];
  const deadLettered = new Counter({ name: 'worker_deadletter_records_total', help: 'Dead-letter records produced by this worker, by the code of their first rejection', labelNames: ['code'], registers });
  const omitted = new Counter({ name: 'deadletter_original_omitted_bytes_total', help: "Original bytes left out of dead letters beyond a device's budget", registers });
  const storeFailures = new Counter({ name: 'worker_store_write_failures_total', help: 'Failed store write attempts (each is retried)', registers });
  const refusedPoints = new Counter({ name: 'worker_store_refused_points_total', help: 'Points the store refused for what they hold (left out; dead-lettered with their record when they have one)', labelNames: ['measurement'], registers });
  const writeSeconds = new Histogram({ name: 'worker_store_write_seconds', help: 'Store write latency, per request', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
  // Unbounded retries: while the bus is away the batch waits (and is not committed) rather than failing.
  const producer = await bus.producer();
  /** Stopping: a store write being retried gives its batch up, uncommitted (the next owner replays it). */
  let stopping = false;
  const serialize = <R>(partition: number, run: () => Promise<R>) => (processor.serialize ? processor.serialize(partition, run) : run());

  /** Writes the points, retrying while the store is away; resolves to the refused ones. */
  async function write(points: PointFrom[], stillOwned: () => boolean): Promise<Refused<PointFrom>[]> {
    const store = o.store!;
    const refused: Refused<PointFrom>[] = [];
    const chunk = o.storeBatchMax ?? points.length;
    for (let i = 0; i < points.length; i += chunk) {
      const part = points.slice(i, i + chunk);
      let waiting = false;
      const r = await retryStore(
        async () => {
          const end = writeSeconds.startTimer();
          const result = await writeIsolating(part, (ps) => store.write(ps.map((x) => x.point)), (err) => store.isRefusal(err));
          end();
          return result;
        },
        {
          what: `store write of ${part.length} points`,
          log,
          maxDelayMs: o.storeRetryMaxMs ?? 10_000,
          onFailure: () => {
            storeFailures.inc();
            if (!waiting) o.storeWaits?.began();
            waiting = true;
            if (stopping) throw new Error('the worker is stopping; the next owner replays the batch');
            if (!stillOwned()) throw new Error('partition no longer owned; the next owner replays it');
          },
          onWaitEnded: () => o.storeWaits?.ended(),
        },
      );
      refused.push(...r);
    }
    for (const { point: x, error } of refused) {
      refusedPoints.inc({ measurement: x.point.measurement });
      if (!x.record) log.error({ measurement: x.point.measurement, device: x.point.tags.device, municipality: x.point.tags.municipality, ts: new Date(x.point.ts).toISOString(), err: error }, 'the store refused a point; left out');
    }
    return refused;
  }

  /** Everything after processing: store, produce, dead-letter. Returns what to commit. */
  async function execute(at: { topic: string; partition: number }, out: BatchOutput, stillOwned: () => boolean, letters: DeadLetterInput[]): Promise<void> {
    const source = (record: BusRecord) => ({ topic: at.topic, partition: at.partition, offset: record.offset });
    if (out.points && out.points.length > 0) {
      const refused = await write(out.points, stillOwned);
      // One dead letter per record, whatever number of its points were refused.
      const byRecord = new Map<BusRecord, Refused<PointFrom>[]>();
      for (const r of refused) if (r.point.record) byRecord.set(r.point.record, [...(byRecord.get(r.point.record) ?? []), r]);
      for (const [record, rs] of byRecord) {
        const rejections = rs.map(({ point: x, error }) => ({ code: REJECT.STORE_REFUSED, field: '(point)', reason: `the store refused the point: ${error}`, ...(x.index === undefined ? {} : { index: x.index }) }));
        letters.push({ rejections, ...rs[0]!.point.device, source: source(record), original: record.value?.toString('utf8') ?? '', error: rs[0]!.error });
      }
      const refusedSet = new Set(refused.map((r) => r.point));
      out.afterStore?.(out.points.filter((x) => !refusedSet.has(x)));
    }
    await out.thenStore?.(async (points) => void (await write(points.map((point) => ({ point })), stillOwned)));
    for (const p of out.produce) await producer.send(p.topic, p.messages);
    const messages = letters.map((l) => {
      deadLettered.inc({ code: l.rejections[0]?.code ?? REJECT.PROCESSING_FAILED });
      const built = deadLetter(deps.deadLetterStage, l, o.deadLetterBudget);
      if (built.omittedBytes > 0) omitted.inc(built.omittedBytes);
      return built.message;
    });
    await producer.send(o.cfg.TOPIC_DEADLETTER, messages);
    out.onProduced?.();
  }

  const consumer = await bus.consume({
    ...groupConsumer(o.cfg, deps, o.topic),
    ...o.consume,
    handle: (batch, ctx) =>
      serialize(batch.partition, async () => {
        const { results, poisoned } = handleEach(batch.messages, (m) => processor.decode(m));
        const out = await processor.process({ topic: batch.topic, partition: batch.partition, bus: batch, records: results }, ctx);
        const letters: DeadLetterInput[] = [...out.deadLetters];
        for (const p of poisoned) {
          log.error({ offset: p.record.offset, partition: batch.partition, err: p.error }, 'record could not be handled; dead-lettered');
          letters.push({ rejections: [{ code: REJECT.PROCESSING_FAILED, field: '(record)', reason: `handling threw: ${p.error}` }], source: { topic: batch.topic, partition: batch.partition, offset: p.record.offset }, original: p.record.value?.toString('utf8') ?? '', error: p.error });
        }
        await execute(batch, out, () => ctx.stillOwned(), letters);
        return { commit: out.commit ?? { offset: nextOffset(batch) } };
      }),
  });

  return {
    consumer,
    async apply(partition, out, stillOwned) {
      await execute({ topic: singleTopic(o.topic), partition: partition ?? -1 }, out, stillOwned, [...out.deadLetters]);
      if (partition !== undefined && out.commit) await consumer.commit(partition, out.commit);
    },
    async stop() {
      stopping = true;
      await consumer.stop();
      await o.onStop?.();
      await producer.close();
    },
  };
}
