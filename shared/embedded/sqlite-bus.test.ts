import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { nextOffset, type BusBatch } from '../bus/bus.ts';
import { createConsumerMetrics } from '../bus/consumer-metrics.ts';
import { createLogger } from '../logging.ts';
import { SqliteBus } from './sqlite-bus.ts';

const log = createLogger('sqlite-bus-test', 'silent');
const file = () => join(mkdtempSync(join(tmpdir(), 'sqlite-bus-')), 'bus.db');
const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

async function collect(bus: SqliteBus, group: string, commitUpTo = Infinity) {
  const seen: { partition: number; offset: number; key: string; value: string }[] = [];
  const consumer = await bus.consume({
    groupId: group,
    topic: 't',
    log,
    metrics: createConsumerMetrics(new Registry(), group),
    onFatal: (err) => {
      throw err;
    },
    handle: async (batch: BusBatch) => {
      for (const m of batch.messages) seen.push({ partition: batch.partition, offset: Number(m.offset), key: m.key!.toString(), value: m.value!.toString() });
      const next = Number(nextOffset(batch));
      return next <= commitUpTo ? { commit: { offset: String(next), metadata: JSON.stringify({ at: next }) } } : {};
    },
  });
  return { seen, consumer };
}

describe('SqliteBus', () => {
  it("keeps each key's records in order in one partition, with consecutive offsets", async () => {
    const bus = new SqliteBus(file());
    await bus.ensureTopics([{ topic: 't', partitions: 3, replicationFactor: 1 }]);
    const p = await bus.producer();
    for (let i = 0; i < 20; i++) await p.send('t', [{ key: `d${i % 4}`, value: String(i) }]);
    const { seen, consumer } = await collect(bus, 'g');
    await waitFor(() => seen.length === 20);
    await consumer.stop();
    for (const key of ['d0', 'd1', 'd2', 'd3']) {
      const mine = seen.filter((s) => s.key === key);
      expect(new Set(mine.map((s) => s.partition)).size).toBe(1);
      expect(mine.map((s) => Number(s.value))).toEqual([...mine.map((s) => Number(s.value))].sort((a, b) => a - b));
    }
    for (const part of [0, 1, 2]) {
      const offsets = seen.filter((s) => s.partition === part).map((s) => s.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    await bus.close();
  });

  it('serves the consumers of one topic from shared reads: each group still gets every record once, in order, and an erased key is not served after its erasure', async () => {
    const bus = new SqliteBus(file());
    await bus.ensureTopics([{ topic: 't', partitions: 2, replicationFactor: 1 }]);
    const p = await bus.producer();
    const groups = await Promise.all(['g1', 'g2', 'g3'].map((g) => collect(bus, g)));
    // Appends while the groups read, in sends of several records, so their reads overlap and lag each other.
    for (let i = 0; i < 60; i++) await p.send('t', [{ key: `d${i % 5}`, value: String(i) }, { key: `d${(i + 2) % 5}`, value: `${i}b` }]);
    await waitFor(() => groups.every((g) => g.seen.length === 120));
    const sorted = (seen: (typeof groups)[number]['seen']) => [...seen].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    for (const g of groups) {
      expect(sorted(g.seen)).toEqual(sorted(groups[0]!.seen));
      for (const part of [0, 1]) {
        const offsets = g.seen.filter((s) => s.partition === part).map((s) => s.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i)); // each offset once, in order
      }
    }
    await Promise.all(groups.map((g) => g.consumer.stop()));
    // A group that read the whole log from the start, and holds its batches (so its read stays the last);
    // then d1 is erased, and a new group reading from the start must not be served it.
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    let heldRecords = 0;
    const early = await bus.consume({
      groupId: 'early',
      topic: 't',
      concurrency: 2, // a batch of each partition held at once
      log,
      metrics: createConsumerMetrics(new Registry(), 'early'),
      onFatal: (err) => {
        throw err;
      },
      handle: async (batch: BusBatch) => {
        heldRecords += batch.messages.length;
        await held;
        return {};
      },
    });
    await waitFor(() => heldRecords === 120);
    const erased = await bus.deleteKey('t', 'd1');
    expect(erased).toBeGreaterThan(0);
    const late = await collect(bus, 'late');
    await waitFor(() => late.seen.length === 120 - erased);
    await new Promise((r) => setTimeout(r, 300));
    expect(late.seen.some((s) => s.key === 'd1')).toBe(false);
    release();
    await early.stop();
    await late.consumer.stop();
    await bus.close();
  });

  it("shares one writer between two threads' logs on a file: appends from both interleave without reusing an offset, and each side's consumers get the other's records", async () => {
    const path = file();
    const first = new SqliteBus(path);
    await first.ensureTopics([{ topic: 't', partitions: 2, replicationFactor: 1 }]);
    // The second log stands for the stages thread's; a port works within one thread just the same.
    const second = new SqliteBus(path, { writer: first.connectWriter() });
    const [a, b] = [await first.producer(), await second.producer()];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).send('t', [{ key: `d${i % 5}`, value: String(i) }])));
    const onSecond = await collect(second, 'g2');
    const onFirst = await collect(first, 'g1');
    await waitFor(() => onSecond.seen.length === 40 && onFirst.seen.length === 40);
    // Appended after the consumers caught up: only the writer's notice (or the idle poll) brings them.
    await a.send('t', [{ key: 'late', value: 'from the first' }]);
    await waitFor(() => onSecond.seen.some((r) => r.value === 'from the first'));
    for (const c of [onSecond, onFirst]) await c.consumer.stop();
    for (const part of [0, 1]) {
      const offsets = onSecond.seen.filter((r) => r.partition === part).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(new Set(onFirst.seen.map((r) => r.value)).size).toBe(41);
    await second.close();
    await first.close();
  });

  it('resumes a group from its committed offset after the file is reopened, metadata included', async () => {
    const path = file();
    let bus = new SqliteBus(path);
    await bus.ensureTopics([{ topic: 't', partitions: 1, replicationFactor: 1 }]);
    await (await bus.producer()).send('t', Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i) })));
    const committing = await collect(bus, 'g');
    const never = await collect(bus, 'h', 0); // a group that never commits
    await waitFor(() => committing.seen.length === 10 && never.seen.length === 10);
    await committing.consumer.stop();
    await never.consumer.stop();
    await bus.close();

    bus = new SqliteBus(path);
    expect((await bus.committed('g', 't')).get(0)).toEqual({ offset: '10', metadata: JSON.stringify({ at: 10 }) });
    await (await bus.producer()).send('t', [{ key: 'k', value: 'new' }]);
    const again = await collect(bus, 'g');
    const replay = await collect(bus, 'h', 0);
    await waitFor(() => again.seen.length === 1 && replay.seen.length === 11);
    // Appends continue after the last offset; the uncommitted group replays from the start.
    expect(again.seen).toEqual([{ partition: 0, offset: 10, key: 'k', value: 'new' }]);
    expect(replay.seen.map((x) => x.offset)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    await again.consumer.stop();
    await replay.consumer.stop();
    await bus.close();
  });

  it('prunes only what every group has committed past and is old enough', async () => {
    const bus = new SqliteBus(file());
    await bus.ensureTopics([{ topic: 't', partitions: 1, replicationFactor: 1 }]);
    const p = await bus.producer();
    const old = String(Date.now() - 2 * 3_600_000);
    await p.send('t', Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i), timestamp: old })));
    const a = await collect(bus, 'a');
    const b = await collect(bus, 'b', 0);
    await waitFor(() => a.seen.length === 10 && b.seen.length === 10);
    await b.consumer.commit(0, { offset: '6' }); // group b is behind: it has committed up to 6
    await a.consumer.stop();
    await b.consumer.stop();
    expect(bus.prune(Date.now())).toBe(6);
    expect(bus.prune(Date.now())).toBe(0);
    expect(bus.lag('b', 't')).toBe(4);
    // Fresh records are kept even when committed: retention waits an hour.
    await p.send('t', [{ key: 'k', value: 'fresh' }]);
    await bus.consume({ groupId: 'b', topic: 't', log, metrics: createConsumerMetrics(new Registry(), 'b2'), onFatal: () => undefined, handle: async (batch) => ({ commit: { offset: nextOffset(batch) } }) }).then(async (c) => {
      await waitFor(() => bus.lag('b', 't') === 0);
      await c.stop();
    });
    // Now both groups are past everything: the four old records go, the fresh one stays.
    expect(bus.prune(Date.now())).toBe(4);
    // Even hours later it stays while group a has not read it.
    expect(bus.prune(Date.now() + 2 * 3_600_000)).toBe(0);
    await bus.close();
  });
});
