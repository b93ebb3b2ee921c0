/**
 * The embedded log's writes — appended records and the groups' committed offsets — in a worker
 * thread of their own (see `shared/thread-calls.ts` for why). The calls waiting for the thread are
 * committed together (`group-commit.ts`: the gateway's appends, the normaliser's and every
 * group's offsets in one fsync), each all or nothing, before any is answered, so an append that
 * resolved is on disk exactly as before. This thread is the only writer of records, so the log
 * ends it keeps are the file's.
 */
import { workerData } from 'node:worker_threads';
import { openDatabase } from './sqlite.ts';
import { partitionOf, storedLogEnd } from './log-records.ts';
import { answerInGroupCommits } from './group-commit.ts';

export interface AppendCall {
  topic: string;
  partitions: number;
  messages: { key: string; value: string | Uint8Array; timestamp?: string }[];
}

export interface CommitCall {
  groupId: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

const db = openDatabase((workerData as { path: string }).path);
/** Next offset per `topic:partition`, as committed; `staged` holds the ends of the commit under way. */
const ends = new Map<string, number>();
const staged = new Map<string, [topic: string, partition: number, end: number]>();
const insert = db.prepare('INSERT INTO records (topic, partition, offset, key, value, ts) VALUES (?, ?, ?, ?, ?, ?)');
const upsertCommit = db.prepare<[string, string, number, number, string | null]>(
  'INSERT INTO commits (group_id, topic, partition, offset, metadata) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset, metadata = excluded.metadata',
);

const end = (k: string, topic: string, p: number) => staged.get(k)?.[2] ?? ends.get(k) ?? storedLogEnd(db, topic, p);

/** Appends the records; every thread using the log hears of them once they are on disk (`AppendedNotice`). */
function append({ topic, partitions, messages }: AppendCall): void {
  const touched = new Map<number, number>();
  for (const m of messages) {
    const p = partitionOf(m.key, partitions);
    const offset = touched.get(p) ?? end(`${topic}:${p}`, topic, p);
    insert.run(topic, p, offset, Buffer.from(m.key), typeof m.value === 'string' ? Buffer.from(m.value) : m.value, m.timestamp ? Number(m.timestamp) : Date.now());
    touched.set(p, offset + 1);
  }
  // Staged only once every record is in: a call that failed half-way leaves the ends alone.
  for (const [p, e] of touched) staged.set(`${topic}:${p}`, [topic, p, e]);
}

export const logWriterCalls = {
  append,
  commit: (c: CommitCall) => {
    upsertCommit.run(c.groupId, c.topic, c.partition, c.offset, c.metadata);
  },
};

/** Told to every thread using the log once records are on disk: consumers there read on at once. */
export interface AppendedNotice {
  appended: [topic: string, partition: number, end: number][];
}

const notify = answerInGroupCommits(db, logWriterCalls, {
  // The ends move only once the commit is on disk: a failed one leaves them as they were.
  committed: () => {
    if (staged.size === 0) return;
    for (const [k, [, , e]] of staged) ends.set(k, e);
    const appended = [...staged.values()];
    staged.clear();
    notify({ appended } satisfies AppendedNotice);
  },
  rolledBack: () => staged.clear(),
});
