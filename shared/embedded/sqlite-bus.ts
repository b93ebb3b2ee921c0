/**
 * The bus embedded in SQLite, for one machine: a partitioned append-only log per topic and the
 * consumer groups' committed offsets, in one database file. `send` returns once its transaction
 * is on disk (WAL, synchronous=FULL), so the gateway's PUBACK after it means what it means with
 * Kafka. Consumers read from their committed offset, hand batches to the same stage code as on
 * Kafka, and commit the offset the stage names. One process owns the file; every group has one
 * member, which owns every partition. Appends and offset commits are made by a thread of their own
 * (`log-writer-thread.ts`), so their fsync does not stop the process's event loop; reads stay here.
 *
 * Retention: records every group has committed past, and older than an hour, are deleted; topics
 * nobody consumes (dead letters) keep records for RETENTION_MS.
 */
import { EventEmitter } from 'node:events';
import { retryBatch } from '../stages/retry-batch.ts';
import { sleep } from '../time.ts';
import { type Bus, type BusBatch, type BusConsumer, type BusProducer, type BusRecord, type Committed, type ConsumeOptions, type TopicSpec, singleTopic } from '../bus/bus.ts';
import { batchRetryOptions } from '../bus/consumer-metrics.ts';
import { storedLogEnd } from './log-records.ts';
import type { AppendedNotice, logWriterCalls } from './log-writer-thread.ts';
import { openDatabase, type Db, type Statement } from './sqlite.ts';
import { ThreadCalls } from '../thread-calls.ts';
import type { MessagePort } from 'node:worker_threads';

const BATCH_RECORDS = 1000;
const IDLE_POLL_MS = 200;
const FETCH_WAIT_MS = 10;
const PRUNE_EVERY_MS = 60_000;
const PRUNE_MIN_AGE_MS = 3_600_000;
const RETENTION_MS = 7 * 86_400_000;

interface LogRow {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  ts: number;
}

export class SqliteBus implements Bus {
  readonly kind = 'embedded';
  private readonly db: Db;
  private readonly partitions = new Map<string, number>();
  /** Next offset per `topic:partition` (the log end), as of the writer thread's last notice. */
  private readonly ends = new Map<string, number>();
  /**
   * The thread that writes the file: started at the first append or commit (a log opened only to
   * read starts none), or another thread's, reached through the port its `connectWriter()` gave.
   */
  private readonly writer: ThreadCalls<typeof logWriterCalls>;
  private readonly ownsWriter: boolean;
  /** Emits `topic:partition` once records appended to that partition are on disk. */
  private readonly appended = new EventEmitter();
  private readonly pruner: NodeJS.Timeout | undefined;
  /**
   * The last read of each `topic:partition` in this thread. The stages that consume one topic here
   * (writer, aggregator, alarms …) wake on the same append and ask for the same records: the first
   * reads them from the file, the others get them from here — one SQLite query and one copy of
   * each record instead of one per stage (the queries were a fifth of `npm start`'s stages thread).
   */
  private readonly lastRead = new Map<string, BusRecord[]>();

  readonly path: string;

  /** `opts.writer`: use the writer thread of the log this port came from (`connectWriter()`), in another thread. */
  constructor(path: string, opts: { writer?: MessagePort } = {}) {
    this.path = path;
    this.db = openDatabase(path);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS records (
        topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
        key BLOB, value BLOB, ts INTEGER NOT NULL,
        PRIMARY KEY (topic, partition, offset)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS commits (
        group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
        offset INTEGER NOT NULL, metadata TEXT,
        PRIMARY KEY (group_id, topic, partition)
      );
    `);
    for (const t of this.db.prepare<[], { topic: string; partitions: number }>('SELECT topic, partitions FROM topics').all()) this.partitions.set(t.topic, t.partitions);
    this.appended.setMaxListeners(0);
    const heard = (n: unknown) => this.heard(n as AppendedNotice);
    this.ownsWriter = opts.writer === undefined;
    this.writer = new ThreadCalls(opts.writer ? { port: opts.writer } : { script: new URL('./log-writer-thread.ts', import.meta.url), workerData: { path } }, heard);
    // One pruner per file: the writer's owner's.
    this.pruner = this.ownsWriter ? setInterval(() => this.prune(Date.now()), PRUNE_EVERY_MS).unref() : undefined;
  }

  /** A port for `new SqliteBus(path, { writer })` in another thread of this process: one writer per file. */
  connectWriter(): MessagePort {
    return this.writer.connect();
  }

  /** Records are on disk, appended by any thread: the ends move, and consumers here read on. */
  private heard(n: AppendedNotice) {
    const keys: string[] = [];
    for (const [topic, p, end] of n.appended) {
      const k = `${topic}:${p}`;
      this.ends.set(k, Math.max(end, this.ends.get(k) ?? 0));
      keys.push(k);
    }
    for (const k of keys) this.appended.emit(k);
  }

  async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    const created: string[] = [];
    const insert = this.db.prepare('INSERT OR IGNORE INTO topics (topic, partitions) VALUES (?, ?)');
    for (const s of specs) {
      if (this.partitions.has(s.topic)) continue;
      insert.run(s.topic, s.partitions);
      this.partitions.set(s.topic, s.partitions);
      created.push(s.topic);
    }
    return created;
  }

  private partitionCount(topic: string): number {
    let n = this.partitions.get(topic);
    // Created since this log was opened, by another thread using the same file?
    n ??= this.db.prepare<[string], { partitions: number }>('SELECT partitions FROM topics WHERE topic = ?').get(topic)?.partitions;
    if (n === undefined) throw new Error(`unknown topic '${topic}' (ensureTopics first)`);
    this.partitions.set(topic, n);
    return n;
  }

  private end(topic: string, partition: number): number {
    const k = `${topic}:${partition}`;
    let e = this.ends.get(k);
    if (e === undefined) {
      e = storedLogEnd(this.db, topic, partition);
      this.ends.set(k, e);
    }
    return e;
  }

  async producer(): Promise<BusProducer> {
    return {
      send: async (topic, messages) => {
        if (messages.length === 0) return;
        // Answered once the transaction is on disk. The ends move and consumers hear by the writer's
        // notice (`heard`), which reaches every thread using the log, before this answer.
        await this.writer.call('append', { topic, partitions: this.partitionCount(topic), messages });
      },
      close: async () => undefined,
    };
  }

  async committed(groupId: string, topic: string): Promise<Map<number, Committed>> {
    const rows = this.db.prepare<[string, string], { partition: number; offset: number; metadata: string | null }>('SELECT partition, offset, metadata FROM commits WHERE group_id = ? AND topic = ?').all(groupId, topic);
    return new Map(rows.map((r) => [r.partition, { offset: String(r.offset), metadata: r.metadata }]));
  }

  private commit(groupId: string, topic: string, partition: number, c: { offset: string; metadata?: string }): Promise<void> {
    return this.writer.call('commit', { groupId, topic, partition, offset: Number(c.offset), metadata: c.metadata ?? null });
  }

  async consume(options: ConsumeOptions): Promise<BusConsumer> {
    // One topic per consumer here (several are for the edge intake, which runs on Kafka).
    const o = { ...options, topic: singleTopic(options.topic) };
    const n = this.partitionCount(o.topic);
    const committed = await this.committed(o.groupId, o.topic);
    // A new group is registered at offset 0, so retention keeps what it has not read yet.
    for (let p = 0; p < n; p++) if (!committed.has(p)) await this.commit(o.groupId, o.topic, p, { offset: '0' });
    const read = this.db.prepare<[string, number, number, number], LogRow>(
      'SELECT offset, key, value, ts FROM records WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?',
    );
    let running = true;
    let slots = o.concurrency ?? 1;
    const waiting: (() => void)[] = [];
    const acquire = async () => {
      while (slots === 0) await new Promise<void>((r) => waiting.push(r));
      slots--;
    };
    const release = () => {
      slots++;
      waiting.shift()?.();
    };
    const stopping = new AbortController();
    /** Until records are appended to the partition (by any thread), the idle poll, or stop. */
    const nextData = (partition: number) =>
      new Promise<boolean>((r) => {
        const key = `${o.topic}:${partition}`;
        const done = (appended: boolean) => {
          clearTimeout(t);
          this.appended.off(key, onAppend);
          stopping.signal.removeEventListener('abort', onStop);
          r(appended);
        };
        const onAppend = () => done(true);
        const onStop = () => done(false);
        const t = setTimeout(onStop, IDLE_POLL_MS);
        this.appended.once(key, onAppend);
        stopping.signal.addEventListener('abort', onStop, { once: true });
      });

    o.onAssignmentChange?.();
    o.log.info({ group: o.groupId, topic: o.topic, partitions: n }, 'consuming the embedded log');

    const loop = async (partition: number) => {
      let position = Number(committed.get(partition)?.offset ?? 0);
      while (running) {
        let rows;
        try {
          rows = this.readRecords(read, o.topic, partition, position);
        } catch (err) {
          // The log file itself failing (I/O error): wait and read again, as Kafka's fetch would.
          o.log.error({ partition, err: (err as Error).message }, 'reading the embedded log failed; retrying');
          await sleep(1000, stopping.signal);
          continue;
        }
        if (rows.length === 0) {
          // Woken by an append, wait a moment more (Kafka's fetch.max.wait): the records of the next
          // few appends come in the same read and batch, rather than one read, store write and
          // offset commit each.
          if (await nextData(partition)) await sleep(FETCH_WAIT_MS, stopping.signal);
          continue;
        }
        const batch: BusBatch = {
          topic: o.topic,
          partition,
          // Rows committed by the writer thread can be read before its answer moved the end here.
          highWatermark: String(Math.max(this.end(o.topic, partition), Number(rows.at(-1)!.offset) + 1)),
          messages: rows,
        };
        await acquire();
        let done;
        try {
          // Handling and committing together: a failure (disk full, the store away) retries the same
          // batch with backoff instead of stopping the stage, which recovers once the cause goes.
          done = await retryBatch(async () => {
            const result = await o.handle(batch, { heartbeat: async () => undefined, stillOwned: () => running });
            if (result.commit) await this.commit(o.groupId, o.topic, partition, result.commit);
          }, { ...batchRetryOptions(o, { topic: o.topic, partition }, () => running), signal: stopping.signal });
        } finally {
          release();
        }
        if (!done) return; // stopping
        o.metrics.records.inc({ topic: o.topic }, rows.length);
        position = Number(rows.at(-1)!.offset) + 1;
        o.metrics.lag.set({ topic: o.topic, partition: String(partition) }, Math.max(0, this.end(o.topic, partition) - position));
      }
    };
    const loops = Array.from({ length: n }, (_, p) => loop(p));
    return {
      joined: () => true,
      commit: async (partition, c) => this.commit(o.groupId, o.topic, partition, c),
      stop: async () => {
        running = false;
        stopping.abort();
        await Promise.all(loops);
      },
    };
  }

  /**
   * Records of a partition from `position` on, at most `BATCH_RECORDS`: from the last read when it
   * holds `position`, else from the file. The last read holds every record from its first offset to
   * its last (records are only ever appended after them), so its tail from `position` is a true,
   * if shorter, answer; the next read goes on from there.
   */
  private readRecords(read: Statement<[string, number, number, number], LogRow>, topic: string, partition: number, position: number): BusRecord[] {
    const k = `${topic}:${partition}`;
    const last = this.lastRead.get(k);
    if (last && last.length > 0 && Number(last[0]!.offset) <= position) {
      const at = last.findIndex((r) => Number(r.offset) >= position);
      if (at >= 0) return last.slice(at); // a batch of its own for each consumer; the records are shared
    }
    const records = read.all(topic, partition, position, BATCH_RECORDS).map((r): BusRecord => ({ offset: String(r.offset), key: r.key, value: r.value, timestamp: String(r.ts) }));
    this.lastRead.set(k, records);
    return records;
  }

  async recordsWithKey(topic: string, key: string): Promise<string[]> {
    return this.db
      .prepare<[string, Buffer], { value: Buffer | null }>('SELECT value FROM records WHERE topic = ? AND key = ? ORDER BY partition, offset')
      .all(topic, Buffer.from(key))
      .map((r) => r.value?.toString('utf8') ?? '');
  }

  async deleteKey(topic: string, key: string): Promise<number> {
    // No shared read may serve an erased record (erasure runs on dead letters, which no stage here
    // consumes; this holds for any topic).
    this.lastRead.clear();
    return this.db.prepare('DELETE FROM records WHERE topic = ? AND key = ?').run(topic, Buffer.from(key)).changes;
  }

  /** Deletes what every group has committed past (and is over an hour old), and expired records of unconsumed topics. */
  prune(now: number): number {
    this.lastRead.clear();
    let deleted = 0;
    for (const [topic, n] of this.partitions) {
      for (let p = 0; p < n; p++) {
        const min = this.db.prepare<[string, number], { low: number | null; groups: number }>('SELECT MIN(offset) AS low, COUNT(*) AS groups FROM commits WHERE topic = ? AND partition = ?').get(topic, p);
        if (min && min.groups > 0 && min.low !== null) {
          deleted += this.db.prepare('DELETE FROM records WHERE topic = ? AND partition = ? AND offset < ? AND ts < ?').run(topic, p, min.low, now - PRUNE_MIN_AGE_MS).changes;
        } else {
          deleted += this.db.prepare('DELETE FROM records WHERE topic = ? AND partition = ? AND ts < ?').run(topic, p, now - RETENTION_MS).changes;
        }
      }
    }
    return deleted;
  }

  /** Records waiting in a topic (all partitions) for a group. */
  lag(groupId: string, topic: string): number {
    const n = this.partitionCount(topic);
    let lag = 0;
    for (let p = 0; p < n; p++) {
      const c = this.db.prepare<[string, string, number], { offset: number }>('SELECT offset FROM commits WHERE group_id = ? AND topic = ? AND partition = ?').get(groupId, topic, p);
      lag += Math.max(0, this.end(topic, p) - (c?.offset ?? 0));
    }
    return lag;
  }

  async close(): Promise<void> {
    clearInterval(this.pruner);
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
