/**
 * The central device registry: one compacted Kafka topic, keyed by device id, whose latest record
 * per key is the device's entry (a tombstone: erased). The devices CLI writes it; every service
 * that needs the registry reads it whole into memory and follows it, wherever it runs — no
 * service depends on a file another process writes. Chosen over a database because Kafka is
 * already the platform's durable, replicated, access-controlled store of record, and a follower
 * of a compacted topic is what Kafka Connect and Kafka Streams use for the same job.
 *
 * - Each process keeps its own copy (`cachePath`, a registry file of the same format in its own
 *   data directory), so it starts — and authenticates its devices — with the centre out of reach,
 *   and catches up when it comes back.
 * - A change is produced (acks=all) and the call returns once this process has read it back, so
 *   `devices add` then `devices list` agree. Other processes see it within their next fetch (under
 *   a second).
 * - Two CLIs changing one device at once: the last record wins (the file's lock has no
 *   counterpart here); the checks (one active id, one owner per DevEUI) are made against this
 *   process's view.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { TopicSpec } from '../bus/bus.ts';
import type { Logger } from '../logging.ts';
import { deviceRecordSchema, type DeviceRecord } from '../registry/device-record.ts';
import { RegistryError, readRegistryFile, writeRegistryFile, type RegistryChange, type RegistrySource } from '../registry/registry-source.ts';
import { parseJsonText } from '../json-text.ts';
import { ensureTopics } from './topics.ts';

/** The central registry's topic unless `DEVICE_REGISTRY_TOPIC` names another. */
export const DEFAULT_REGISTRY_TOPIC = 'devices.registry';

/** How often this process's copy is rewritten at most. */
const COPY_EVERY_MS = 200;

/** The consumer groups that follow the registry start with this and the service's name (their ACL is a prefix). */
export const REGISTRY_GROUP_PREFIX = 'registry-';

/**
 * One partition: every change in one order, and the topic is small (an entry per device).
 * Segments roll hourly so compaction can drop an erased device's earlier entries (and a rotated
 * secret's old hash) within about an hour; a tombstone itself is kept a day, for followers that
 * are behind.
 */
export const registryTopicSpec = (topic: string): TopicSpec => ({ topic, partitions: 1, configs: { 'cleanup.policy': 'compact', 'segment.ms': '3600000', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '86400000' } });

export interface RegistryTopicOptions {
  kafka: Kafka;
  topic: string;
  /** Whose copy: its consumer group is `registry-<service>-<random>`. */
  service: string;
  log: Logger;
  /** This process's own copy of the registry (a registry file), to start from with the centre out of reach. */
  cachePath?: string;
  /** How long opening waits to have read the topic to its end before going on with the copy. */
  catchUpMs?: number;
  /** How long a change waits to be read back before it is reported as unconfirmed. */
  confirmMs?: number;
  /** Tries to create the topic if it is missing (an operator's login may; a service's usually may not). */
  create?: boolean;
  /** Only these municipalities' devices are kept, in memory and in the copy (a town's edge); all when absent. */
  municipalities?: readonly string[];
}

export async function openRegistryTopic(o: RegistryTopicOptions): Promise<RegistryTopicSource> {
  const source = new RegistryTopicSource(o);
  await source.start(o.catchUpMs ?? 10_000);
  return source;
}

export class RegistryTopicSource implements RegistrySource {
  readonly where: string;
  /** What is served: the topic as read to its end, or the copy until then. */
  private live = new Map<string, DeviceRecord>();
  /** The topic being read from its start, until it reaches the end it had when reading began. */
  private replay: Map<string, DeviceRecord> | undefined;
  private replayEnd = 0;
  /** The next offset to read (the topic has one partition). */
  private next = 0;
  private version = 0;
  private seen = -1;
  private caughtUp = false;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<() => void>();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private savedAt = 0;
  private closed = false;
  private readonly o: RegistryTopicOptions;

  constructor(o: RegistryTopicOptions) {
    this.o = o;
    this.where = `Kafka topic ${o.topic}`;
  }

  async start(catchUpMs: number): Promise<void> {
    this.loadCopy();
    void this.follow();
    const caughtUp = await this.until(() => this.caughtUp, catchUpMs);
    if (!caughtUp) this.o.log.warn({ topic: this.o.topic, devices: this.live.size, copy: this.o.cachePath }, 'central device registry not reached yet: going on with this process\'s copy, following the topic when it can');
  }

  changed(): DeviceRecord[] | undefined {
    if (this.seen === this.version) return undefined;
    this.seen = this.version;
    return [...this.live.values()];
  }

  watch(poll: () => void): () => void {
    this.listeners.add(poll);
    return () => this.listeners.delete(poll);
  }

  async update(change: RegistryChange): Promise<void> {
    if (!(await this.until(() => this.caughtUp, this.o.confirmMs ?? 15_000))) throw new RegistryError(`the central registry (${this.where}) cannot be read: no change made`);
    const before = this.live;
    const after = new Map(change([...before.values()]).map((d) => [d.id, deviceRecordSchema.parse(d)]));
    const messages: { key: string; value: string | null }[] = [];
    for (const [id, d] of after) if (JSON.stringify(before.get(id)) !== JSON.stringify(d)) messages.push({ key: id, value: JSON.stringify(d) });
    for (const id of before.keys()) if (!after.has(id)) messages.push({ key: id, value: null });
    if (messages.length === 0) return;
    this.producer ??= this.o.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    const sent = await this.producer.send({ topic: this.o.topic, acks: -1, messages });
    const last = Math.max(...sent.map((r) => Number(r.baseOffset))) + messages.length;
    if (!(await this.until(() => this.next >= last, this.o.confirmMs ?? 15_000))) throw new RegistryError(`the change was written to ${this.where} but not read back within ${this.o.confirmMs ?? 15_000} ms`);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.cacheTimer);
    this.saveCopy();
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect(), this.admin?.disconnect()]);
  }

  /** Reads the topic from its start, then follows it; reconnects (from the start again) until closed. */
  private async follow(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        this.admin ??= this.o.kafka.admin();
        await this.admin.connect();
        // Made by whoever may (an operator's login, a deployment without ACLs); the others wait for it.
        if (this.o.create && attempt === 0) await ensureTopics(this.o.kafka, [registryTopicSpec(this.o.topic)]).catch((err: Error) => this.o.log.warn({ topic: this.o.topic, err: err.message }, "could not create the central device registry's topic"));
        const [end] = await this.admin.fetchTopicOffsets(this.o.topic);
        this.replay = new Map();
        this.replayEnd = Number(end?.high ?? 0);
        this.next = Number(end?.low ?? 0);
        this.settleReplay();
        const consumer = this.o.kafka.consumer({ groupId: `${REGISTRY_GROUP_PREFIX}${this.o.service}-${randomUUID()}`, maxWaitTimeInMs: 250, retry: { retries: 5, restartOnFailure: async () => false } });
        this.consumer = consumer;
        const crashed = new Promise<void>((resolve) => consumer.on(consumer.events.CRASH, () => resolve()));
        await consumer.connect();
        await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
        // kafkajs does not restart it on its own (restartOnFailure): a crash ends this round and the loop reads afresh.
        await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.apply(message.key?.toString('utf8'), message.value, Number(message.offset)) });
        attempt = 0;
        await crashed;
        await consumer.disconnect().catch(() => undefined);
      } catch (err) {
        if (this.closed) return;
        this.o.log.warn({ topic: this.o.topic, attempt, err: (err as Error).message }, 'central device registry unreachable; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
  }

  private apply(key: string | undefined, value: Buffer | null, offset: number): void {
    const target = this.replay ?? this.live;
    if (key !== undefined) {
      if (value === null) target.delete(key);
      else {
        const parsed = parseJsonText(value.toString('utf8'), deviceRecordSchema);
        if (parsed.ok && parsed.value.id === key) {
          // A device of another town is as good as absent here (it may have moved: drop any entry).
          if (this.o.municipalities && !this.o.municipalities.includes(parsed.value.municipality)) target.delete(key);
          else target.set(key, parsed.value);
        } else this.o.log.warn({ topic: this.o.topic, offset, device: key }, 'central registry record is not a device entry: skipped');
      }
    }
    this.next = Math.max(this.next, offset + 1);
    if (!this.settleReplay() && target === this.live) this.changedNow();
    for (const w of this.waiters) w();
  }

  /** Once the replay has reached the end it started from, it becomes what is served. */
  private settleReplay(): boolean {
    if (!this.replay || this.next < this.replayEnd) return false;
    this.live = this.replay;
    this.replay = undefined;
    this.caughtUp = true;
    this.changedNow();
    for (const w of this.waiters) w();
    return true;
  }

  /**
   * The copy is written before anyone is told of the change (at most every 200 ms: a bulk import
   * of many devices is written once at the end), so what a gateway acted on survives a SIGKILL.
   */
  private changedNow(): void {
    this.version++;
    const since = Date.now() - this.savedAt;
    if (since >= COPY_EVERY_MS) this.saveCopy();
    else
      this.cacheTimer ??= setTimeout(() => {
        this.cacheTimer = undefined;
        this.saveCopy();
      }, COPY_EVERY_MS - since);
    for (const l of this.listeners) l();
  }

  /** This process's copy is a registry file: what it held when the topic was last read to its end. */
  private loadCopy(): void {
    if (!this.o.cachePath) return;
    try {
      this.live = new Map(readRegistryFile(this.o.cachePath).devices.map((d) => [d.id, d]));
      this.version++;
    } catch (err) {
      this.o.log.warn({ copy: this.o.cachePath, err: (err as Error).message }, "this process's copy of the registry is unreadable: waiting for the topic");
    }
  }

  private saveCopy(): void {
    if (!this.o.cachePath || !this.caughtUp) return;
    writeRegistryFile(this.o.cachePath, [...this.live.values()]);
    this.savedAt = Date.now();
  }

  /** Waits for `cond` (re-checked whenever a record is applied), at most `ms`. */
  private until(cond: () => boolean, ms: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!cond()) return;
        finish(true);
      };
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(cond()), ms);
      this.waiters.add(check);
    });
  }
}
