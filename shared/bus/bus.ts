/**
 * The bus between the pipeline's stages: partitioned, ordered per key, with consumer groups that
 * commit how far they got. Kafka implements it in production (`shared/kafka/kafka-bus.ts`); an
 * embedded log in SQLite implements it on one machine (`shared/embedded/sqlite-bus.ts`). The
 * stages see only this interface, so both run the same processing code.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logging.ts';

export interface BusMessage {
  key: string;
  value: string | Buffer;
  /** Record time (epoch ms as a string); the bus's own clock when absent. */
  timestamp?: string;
}

export interface BusRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
}

export interface BusBatch {
  topic: string;
  partition: number;
  /** The offset after the partition's last record when the batch was fetched. */
  highWatermark: string;
  messages: BusRecord[];
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Copies of each partition, where the engine keeps copies; absent or 0 = the engine's setting (Kafka: `KAFKA_REPLICATION_FACTOR`). */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface BusProducer {
  /** Resolves once the bus has every message durably, in order per key. */
  send(topic: string, messages: BusMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /**
   * Give up after a few quick retries (the gateway spools instead) rather than waiting for as
   * long as it takes (the workers, whose batch simply waits uncommitted).
   */
  failFast?: boolean;
}

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
  /** Failed attempts at a batch (handling or committing), each retried with backoff. */
  batchFailures: Counter;
  /** Partitions whose batch is failing right now (0 when the stage is healthy). */
  failing: Gauge;
  /** Attempts to replace a consumer its client stopped for good (Kafka only; retries count again). */
  replacements: Counter;
}



export interface ConsumeOptions {
  groupId: string;
  /**
   * The topic it reads, or several (Kafka only: the edge intake reads every edge's topic under one
   * group); `BusConsumer.commit` needs a single topic.
   */
  topic: string | readonly string[];
  log: Logger;
  metrics: ConsumerMetrics;
  handle(batch: BusBatch, ctx: BatchContext): Promise<BatchResult>;
  /** The partitions this member owns changed: drop state that is rebuilt from the commits. */
  onAssignmentChange?(): void;
  /** Partitions processed at once (each partition's batches still in order). */
  concurrency?: number;
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /** The bus gave up on this consumer for good: services exit so their supervisor restarts them. */
  onFatal: (err: Error) => void;
}

export interface BusConsumer {
  /** True once the consumer owns partitions. */
  joined(): boolean;
  /** Commits outside a batch (the aggregator's idle close). */
  commit(partition: number, c: { offset: string; metadata?: string }): Promise<void>;
  /** Stop fetching, let the batch in progress finish (and commit), leave. */
  stop(): Promise<void>;
}

export interface Committed {
  offset: string;
  metadata: string | null;
}

export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  /** Creates the topics that do not exist yet; returns the ones it created. */
  ensureTopics(specs: TopicSpec[]): Promise<string[]>;
  producer(opts?: ProducerOptions): Promise<BusProducer>;
  consume(o: ConsumeOptions): Promise<BusConsumer>;
  /** A group's committed offsets (and metadata) per partition of a topic. */
  committed(groupId: string, topic: string): Promise<Map<number, Committed>>;
  /**
   * The values of a topic's records with this key, oldest first, up to the topic's end when
   * called: what a data subject's access request reads (the dead letters are keyed by device).
   */
  recordsWithKey(topic: string, key: string): Promise<string[]>;
  /**
   * Deletes a key's records (an erasure request on the dead letters) and returns how many. Other
   * keys' records are kept, possibly at new positions (Kafka can only cut a partition's head).
   */
  deleteKey(topic: string, key: string): Promise<number>;
  /** Releases what the bus holds open itself (not the producers and consumers it handed out). */
  close(): Promise<void>;
}



/** The one topic of a consumer that reads one (the embedded log's consumers, `BusConsumer.commit`). */
export function singleTopic(topic: ConsumeOptions['topic']): string {
  if (typeof topic === 'string') return topic;
  if (topic.length !== 1) throw new Error(`expected one topic, not ${topic.length} (${topic.join(', ')})`);
  return topic[0]!;
}

export const lastOffset = (batch: BusBatch) => batch.messages.at(-1)?.offset ?? String(Number(batch.highWatermark) - 1);

/** The offset to commit after a batch whose results are all safe: one past its last record. */
export const nextOffset = (batch: BusBatch) => String(Number(lastOffset(batch)) + 1);

