/**
 * The bus on Kafka (kafkajs): idempotent acks=all producers in broker-sized requests, consumer
 * groups with explicit commits (offsets move only when the stage says its results are safe),
 * heartbeats while a handler waits for the next hop.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { type Bus, type BusConsumer, type BusProducer, type Committed, type ConsumeOptions, type ProducerOptions, type TopicSpec, lastOffset, singleTopic } from '../bus/bus.ts';
import { batchRetryOptions } from '../bus/consumer-metrics.ts';
import { retryBatch } from '../stages/retry-batch.ts';
import { chunkMessages } from './chunk.ts';
import { type MemberEvents, keepMember } from './group-member.ts';
import { rememberingKeyPartitioner } from './partitioner.ts';
import { ensureTopics } from './topics.ts';

/**
 * How stale the client's view of partition leaders may get. When a broker dies, kafkajs 2.2.4's
 * consumer keeps fetching from it (connection refused, retried) until its metadata is older than
 * this, and only then learns the new leaders: at its default of 5 minutes a consumer stalls that
 * long after a broker crash (seen in test/pipeline/replication.test.ts). A metadata request every
 * 10 s per client is cheap.
 */
const METADATA_MAX_AGE_MS = 10_000;

/**
 * A fetch returns once this much is there, or after FETCH_MAX_WAIT_MS. With Kafka's default of one
 * byte, a busy stage asked for (and committed, produced and stored) a few records at a time, and
 * the broker and client paid their per-request cost on each: at 20,000 1-reading messages/s this
 * cut the broker's CPU per reading by a third and the stages' lag p50 from 2.2 to 0.6 s
 * (docs/benchmarks.md). A quiet partition still answers within the wait.
 */
const FETCH_MIN_BYTES = 128 * 1024;
const FETCH_MAX_WAIT_MS = 100;

/**
 * How long a consumer retries one request (a fetch, a heartbeat, a commit) before kafkajs gives up
 * on it: about 10 s. Finite on purpose. kafkajs 2.2.4 remembers the group coordinator's broker
 * for the member's lifetime; when that broker dies, commits and heartbeats keep going to it
 * ("Broker 2 not found in the cached metadata") and only a restart of the consumer — which
 * kafkajs does by itself once retries run out (a CRASH with restart: true) — asks the cluster for
 * the new coordinator and rejoins. With endless retries a worker whose coordinator was killed
 * waited on its commit for ever (seen in test/pipeline/replication.test.ts). Uncommitted batches
 * are replayed after the rejoin; every stage's output is idempotent.
 */
const CONSUMER_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 3000 };

export class KafkaBus implements Bus {
  readonly kind = 'kafka';

  /**
   * One admin connection for offset lookups, opened on first use: the aggregator polls the
   * writer's commits before recomputing late windows, and a connection per poll costs more than
   * the poll (and, on a busy broker, seconds).
   */
  private admin: Promise<Admin> | undefined;

  readonly kafka: Kafka;
  /** Copies of a topic this bus creates when its spec does not say (`KAFKA_REPLICATION_FACTOR`; 0: as the cluster allows). */
  private readonly replicationFactor: number;

  constructor(kafka: Kafka, opts: { replicationFactor?: number } = {}) {
    this.kafka = kafka;
    this.replicationFactor = opts.replicationFactor ?? 0;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }

  /** Drops the admin connection after a failure, so the next lookup opens a fresh one. */
  private async dropAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    return ensureTopics(this.kafka, specs.map((s) => ({ ...s, replicationFactor: s.replicationFactor || this.replicationFactor })));
  }

  async producer(opts: ProducerOptions = {}): Promise<BusProducer> {
    const open = async (): Promise<Producer> => {
      const producer = this.kafka.producer({
        idempotent: true,
        metadataMaxAge: METADATA_MAX_AGE_MS,
        maxInFlightRequests: 1,
        createPartitioner: rememberingKeyPartitioner,
        retry: opts.failFast ? { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } : { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
      });
      try {
        await producer.connect();
      } catch (err) {
        void producer.disconnect().catch(() => undefined);
        throw err;
      }
      return producer;
    };
    let current: Promise<Producer> | undefined = open();
    await current;
    return {
      async send(topic, messages) {
        if (messages.length === 0) return;
        const producer = current ?? open();
        current = producer;
        try {
          // In order, in requests the broker accepts; a failure after some of them only duplicates.
          for (const chunk of chunkMessages(messages)) await (await producer).send({ topic, acks: -1, messages: chunk });
        } catch (err) {
          // What kafkajs gives up on may be this producer's own state: after a broker restart an
          // idempotent producer's sequence numbers can fall out of step with the broker's
          // (OUT_OF_ORDER_SEQUENCE_NUMBER, seen in the Kafka-outage test), which kafkajs does not
          // retry and a producer id cannot recover from. The next send opens a new producer (a new
          // producer id); the caller retries the batch.
          if (current === producer) current = undefined;
          void producer.then((p) => p.disconnect()).catch(() => undefined);
          throw err;
        }
      },
      close: async () => {
        const producer = current;
        current = undefined;
        await producer?.then((p) => p.disconnect());
      },
    };
  }

  async committed(groupId: string, topic: string): Promise<Map<number, Committed>> {
    try {
      const res = await (await this.connectedAdmin()).fetchOffsets({ groupId, topics: [topic] });
      const parts = res[0]?.partitions ?? [];
      return new Map(parts.map((p) => [p.partition, { offset: p.offset, metadata: (p as { metadata?: string | null }).metadata ?? null }]));
    } catch (err) {
      await this.dropAdmin();
      throw err;
    }
  }

  /**
   * Reads each partition of `topic` from its oldest kept record up to its end when called (or the
   * partition's bound in `until`), in order, with a reader of its own that never commits.
   */
  private async scan(topic: string, each: (partition: number, message: KafkaMessage) => void | Promise<void>, until?: Map<number, number>): Promise<void> {
    const admin = await this.connectedAdmin();
    const ends = until ?? new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, Number(e.high)]));
    const starts = new Map((await admin.fetchTopicOffsetsByTimestamp(topic, 0)).map((e) => [e.partition, Number(e.offset)]));
    const left = new Set([...ends].filter(([p, end]) => end > (starts.get(p) ?? 0)).map(([p]) => p));
    if (left.size === 0) return;
    const consumer = this.kafka.consumer({ groupId: `scan-${randomUUID()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const offset = Number(message.offset);
              const end = ends.get(partition) ?? 0;
              if (offset < end) await each(partition, message);
              if (offset >= end - 1) left.delete(partition);
              if (left.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }

  async recordsWithKey(topic: string, key: string): Promise<string[]> {
    const found: { partition: number; offset: number; value: string }[] = [];
    await this.scan(topic, (partition, m) => {
      if (m.key?.toString('utf8') === key) found.push({ partition, offset: Number(m.offset), value: m.value?.toString('utf8') ?? '' });
    });
    return found.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => r.value);
  }

  /**
   * Kafka deletes no single record, only a partition's records before an offset. So: find where
   * the key's last record is in each partition; copy every *other* record before it to the
   * partition's end (same key, value, headers and timestamp — retention still counts from the
   * original — in order); then delete the partition up to just
   * past the key's last record. Other keys' records survive with new offsets (a reader that had
   * consumed them sees them again: at least once). A record of the key produced meanwhile lands
   * after the cut and stays (the caller looks again and says so). Reads the partitions twice,
   * holding no more than one produce batch.
   */
  async deleteKey(topic: string, key: string): Promise<number> {
    const last = new Map<number, number>();
    let matches = 0;
    await this.scan(topic, (partition, m) => {
      if (m.key?.toString('utf8') !== key) return;
      last.set(partition, Number(m.offset) + 1);
      matches++;
    });
    if (matches === 0) return 0;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      let batch: { partition: number; key: Buffer | null; value: Buffer | null; timestamp: string; headers?: IHeaders }[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await producer.send({ topic, acks: -1, messages: batch });
        batch = [];
      };
      await this.scan(
        topic,
        async (partition, m) => {
          if (m.key?.toString('utf8') === key) return;
          batch.push({ partition, key: m.key, value: m.value, timestamp: m.timestamp, ...(m.headers ? { headers: m.headers } : {}) });
          if (batch.length >= 500) await flush();
        },
        last,
      );
      await flush();
    } finally {
      await producer.disconnect();
    }
    const admin = await this.connectedAdmin();
    await admin.deleteTopicRecords({ topic, partitions: [...last].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
    return matches;
  }

  close(): Promise<void> {
    return this.dropAdmin();
  }

  async consume(o: ConsumeOptions): Promise<BusConsumer> {
    let joined = false;
    const kept = await keepMember({
      start: (events) =>
        this.startMember(o, {
          ...events,
          joined: () => {
            joined = true;
            events.joined();
          },
        }),
      close: (consumer) => consumer.disconnect(),
      log: o.log,
      onFatal: o.onFatal,
      onReplace: () => o.metrics.replacements.inc(),
    });
    return {
      joined: () => joined,
      commit: (partition, c) => kept.current().commitOffsets([{ topic: singleTopic(o.topic), partition, ...c }]),
      stop: () => kept.stop(),
    };
  }

  /** One group member: connected, subscribed and running the stage's handler. */
  private async startMember(o: ConsumeOptions, events: MemberEvents): Promise<Consumer> {
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 2 * 1024 * 1024,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      minBytes: FETCH_MIN_BYTES,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      retry: CONSUMER_RETRY,
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      events.joined();
      o.log.info({ assignment: e.payload.memberAssignment }, 'joined consumer group');
      o.onAssignmentChange?.();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      o.log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart) events.stoppedForGood(e.payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [o.topic].flat(), fromBeginning: true });
      await this.runHandler(consumer, o);
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    return consumer;
  }

  /** Runs the stage's handler on each batch; offsets are committed only when it says so. */
  private async runHandler(consumer: Consumer, o: ConsumeOptions): Promise<void> {
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
        let result;
        try {
          // A throwing handler is retried with backoff here (never handed to kafkajs, which would restart the consumer).
          const done = await retryBatch(() => o.handle(batch, { heartbeat: () => payload.heartbeat(), stillOwned }), batchRetryOptions(o, { topic: batch.topic, partition: batch.partition }, stillOwned));
          if (!done) return; // lost the partition meanwhile: its next owner replays it
          result = done.value;
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
        o.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(lastOffset(batch)) - 1));
        await payload.heartbeat();
      },
    });
  }
}
