/**
 * A batch consumer for the stream workers: at-least-once by construction. Offsets are committed
 * explicitly, only after the worker says the batch's results are safe downstream, and only up to
 * the offset the worker names (the aggregator holds it back to its oldest open window). On a
 * rebalance `onAssignmentChange` lets a worker drop state it will rebuild from the commit.
 */
import type { Batch, Consumer, Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging.ts';

export interface BatchContext {
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch is stale after a rebalance. */
  stillOwned(): boolean;
}

export interface BatchResult {
  /** Commit this next-offset (with optional metadata) for the batch's partition; nothing when undefined. */
  commit?: { offset: string; metadata?: string };
}

export interface ConsumerMetrics {
  lag: Gauge<'topic' | 'partition'>;
  records: Counter<'topic'>;
}

export function createConsumerMetrics(registry: Registry, group: string): ConsumerMetrics {
  return {
    lag: new Gauge({ name: 'worker_consumer_lag', help: `Records behind the partition end (${group})`, labelNames: ['topic', 'partition'], registers: [registry] }),
    records: new Counter({ name: 'worker_records_in_total', help: 'Records consumed', labelNames: ['topic'], registers: [registry] }),
  };
}

export interface RunConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  log: Logger;
  metrics: ConsumerMetrics;
  handle(batch: Batch, ctx: BatchContext): Promise<BatchResult>;
  onAssignmentChange?(): void;
  /** Partitions processed at once (each batch is still processed in order). */
  concurrency?: number;
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /**
   * kafkajs gave up on the consumer (a non-retriable error): the worker must not look healthy
   * while consuming nothing. Services exit so their supervisor restarts them.
   */
  onFatal: (err: Error) => void;
}

/** What every stream worker is given by its `main.ts` (or a test). */
export interface WorkerDeps {
  kafka: Kafka;
  log: Logger;
  registry: Registry;
  onFatal: (err: Error) => void;
}

/** A started stream worker. */
export interface RunningWorker {
  consumer: RunningConsumer;
  /** Let the batch in progress finish and commit, then leave the group. */
  stop(): Promise<void>;
}

export interface RunningConsumer {
  consumer: Consumer;
  /** Stop fetching, let the batch in progress finish (and commit), disconnect. */
  stop(): Promise<void>;
  /** True once the consumer has joined its group. */
  joined(): boolean;
}

export async function runConsumer(o: RunConsumerOptions): Promise<RunningConsumer> {
  const consumer = o.kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: o.maxBytesPerPartition ?? 2 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    o.log.info({ assignment: e.payload.memberAssignment }, 'joined consumer group');
    o.onAssignmentChange?.();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    o.log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) o.onFatal(e.payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: o.concurrency ?? 1,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.isEmpty()) return;
      const stillOwned = () => payload.isRunning() && !payload.isStale();
      // A handler may wait minutes for the next hop (InfluxDB down); heartbeats keep the member in
      // its group meanwhile, so its partitions are not taken away just for waiting.
      const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), 2000);
      let result: BatchResult;
      try {
        result = await o.handle(batch, { heartbeat: () => payload.heartbeat(), stillOwned });
      } finally {
        clearInterval(beat);
      }
      o.metrics.records.inc({ topic: batch.topic }, batch.messages.length);
      // Advance the fetch position; what is committed is the worker's choice.
      payload.resolveOffset(batch.lastOffset());
      if (result.commit && stillOwned()) {
        try {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, ...result.commit }]);
        } catch (err) {
          // Lost the partition in a rebalance: its next owner resumes from the last commit.
          o.log.warn({ partition: batch.partition, err: (err as Error).message }, 'commit refused; the partition will be replayed from the last commit');
        }
      }
      o.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
      await payload.heartbeat();
    },
  });
  return { consumer, stop: () => consumer.disconnect(), joined: () => joined };
}

/** The offset to commit after a batch whose results are all safe: one past its last record. */
export const nextOffset = (batch: Batch) => String(Number(batch.lastOffset()) + 1);
