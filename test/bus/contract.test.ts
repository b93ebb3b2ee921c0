/**
 * One contract suite for every bus (as aedes's abstract persistence suite is for its backends):
 * the same tests on the real Kafka and on the embedded log — order per key, commits with metadata,
 * resuming a group where it committed, a handler that throws (retried, never fatal), and (Kafka,
 * where a group may have several members) a rebalance that loses nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { nextOffset, type Bus, type BusBatch, type BusConsumer } from '../../shared/bus/bus.ts';
import { createConsumerMetrics } from '../../shared/bus/consumer-metrics.ts';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { waitUntil } from '../support/gateway.ts';
import { servicesEnv, unique } from '../support/services.ts';

const log = createLogger('bus-contract', 'silent');

interface Harness {
  bus: Bus;
  /** The same bus as a restarted process would open it. */
  reopen(): Promise<Bus>;
  close(): Promise<void>;
}

const buses: [string, () => Promise<Harness>][] = [
  [
    'kafka',
    async () => {
      const opened: KafkaBus[] = [];
      const make = () => {
        opened.push(new KafkaBus(createKafka({ brokers: servicesEnv().KAFKA_BROKERS!.split(','), clientId: unique('contract'), log })));
        return opened.at(-1)!;
      };
      return {
        bus: make(),
        reopen: async () => make(),
        close: async () => {
          for (const b of opened) await b.close();
        },
      };
    },
  ],
  [
    'embedded',
    async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'bus-contract-')), 'bus.db');
      const opened: SqliteBus[] = [new SqliteBus(path)];
      return {
        bus: opened[0]!,
        reopen: async () => {
          await opened.at(-1)!.close();
          opened.push(new SqliteBus(path));
          return opened.at(-1)!;
        },
        close: async () => {
          for (const b of opened) await b.close();
        },
      };
    },
  ],
];

type Seen = { partition: number; offset: number; key: string; value: string };

async function consume(bus: Bus, groupId: string, topic: string, handle: (batch: BusBatch) => Promise<{ commit?: { offset: string; metadata?: string } }>, metrics = createConsumerMetrics(new Registry(), groupId)) {
  const fatal: Error[] = [];
  const consumer = await bus.consume({ groupId, topic, log, metrics, onFatal: (e) => fatal.push(e), handle, sessionTimeoutMs: 6000 });
  return { consumer, fatal, metrics };
}

const collector = (seen: Seen[], commitUpTo = Infinity) => async (batch: BusBatch) => {
  for (const m of batch.messages) seen.push({ partition: batch.partition, offset: Number(m.offset), key: m.key!.toString(), value: m.value!.toString() });
  // Commit how far the batch got, or only up to `commitUpTo` (a worker holding its commit back).
  const next = Math.min(Number(nextOffset(batch)), commitUpTo);
  return { commit: { offset: String(next), metadata: JSON.stringify({ upTo: next }) } };
};

describe.each(buses)('bus contract: %s', (kind, open) => {
  const topicOf = async (bus: Bus, partitions = 3) => {
    const topic = unique('contract');
    await bus.ensureTopics([{ topic, partitions, replicationFactor: 1 }]);
    return topic;
  };

  it('keeps every key in one partition, in order, with consecutive offsets', async () => {
    const h = await open();
    const topic = await topicOf(h.bus);
    const p = await h.bus.producer();
    for (let i = 0; i < 60; i++) await p.send(topic, [{ key: `d${i % 5}`, value: String(i) }]);
    const seen: Seen[] = [];
    const { consumer } = await consume(h.bus, unique('g'), topic, collector(seen));
    await waitUntil(() => seen.length >= 60, 30_000, 'all records');
    await consumer.stop();
    await p.close();
    for (let k = 0; k < 5; k++) {
      const mine = seen.filter((s) => s.key === `d${k}`);
      expect(new Set(mine.map((s) => s.partition)).size).toBe(1);
      expect(mine.map((s) => Number(s.value))).toEqual(Array.from({ length: 12 }, (_, i) => k + 5 * i));
    }
    await h.close();
  });

  it("reads a key's records, and deletes them (an erasure) keeping every other key's, each in order", async () => {
    const h = await open();
    const topic = await topicOf(h.bus, 2);
    const p = await h.bus.producer();
    for (let i = 0; i < 40; i++) await p.send(topic, [{ key: `d${i % 4}`, value: `${i % 4}:${i}` }]);
    await p.close();
    const of = (k: number) => Array.from({ length: 10 }, (_, i) => `${k}:${k + 4 * i}`);
    expect(await h.bus.recordsWithKey(topic, 'd1')).toEqual(of(1));
    expect(await h.bus.deleteKey(topic, 'd1')).toBe(10);
    expect(await h.bus.recordsWithKey(topic, 'd1')).toEqual([]);
    for (const k of [0, 2, 3]) expect(await h.bus.recordsWithKey(topic, `d${k}`)).toEqual(of(k));
    expect(await h.bus.deleteKey(topic, 'd1')).toBe(0);
    await h.close();
  });

  it('resumes a group after a restart from its committed offset, with the commit metadata', async () => {
    const h = await open();
    const topic = await topicOf(h.bus, 1);
    const group = unique('g');
    const p = await h.bus.producer();
    await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i) })));
    await p.close();
    const first: Seen[] = [];
    const a = await consume(h.bus, group, topic, collector(first, 6));
    await waitUntil(() => first.length >= 10, 30_000, 'first pass');
    await a.consumer.stop();

    const bus = await h.reopen();
    expect((await bus.committed(group, topic)).get(0)).toEqual({ offset: '6', metadata: JSON.stringify({ upTo: 6 }) });
    const again: Seen[] = [];
    const b = await consume(bus, group, topic, collector(again));
    await waitUntil(() => again.length >= 4, 30_000, 'the replay');
    await b.consumer.stop();
    expect(again.map((s) => s.value)).toEqual(['6', '7', '8', '9']);
    await h.close();
  });

  it('retries a batch whose handler throws, without giving up on the consumer, and goes on', async () => {
    const h = await open();
    const topic = await topicOf(h.bus, 1);
    const p = await h.bus.producer();
    await p.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: String(i) })));
    let throws = 2;
    const seen: Seen[] = [];
    const handle = collector(seen);
    const { consumer, fatal, metrics } = await consume(h.bus, unique('g'), topic, async (batch) => {
      if (throws-- > 0) throw new Error('the next hop is away');
      return handle(batch);
    });
    await waitUntil(() => seen.length >= 5, 30_000, 'the records after the failures');
    await p.send(topic, [{ key: 'k', value: 'after' }]);
    await waitUntil(() => seen.some((s) => s.value === 'after'), 30_000, 'a later record');
    await consumer.stop();
    await p.close();
    expect(fatal).toEqual([]);
    expect((await metrics.batchFailures.get()).values[0]?.value).toBe(2);
    expect(seen.map((s) => s.value)).toEqual(['0', '1', '2', '3', '4', 'after']);
    await h.close();
  });

  // Only Kafka groups have several members; the embedded log serves one process, one member per group.
  if (kind !== 'kafka') return;
  it('shares partitions between two members and loses nothing when one leaves', async () => {
    const h = await open();
    const topic = await topicOf(h.bus, 4);
    const group = unique('g');
    const seen: Seen[] = [];
    const members: BusConsumer[] = [];
    members.push((await consume(h.bus, group, topic, collector(seen))).consumer);
    members.push((await consume(await h.reopen(), group, topic, collector(seen))).consumer);
    await waitUntil(() => members.every((m) => m.joined()), 30_000, 'both members joined');
    const p = await h.bus.producer();
    await p.send(topic, Array.from({ length: 40 }, (_, i) => ({ key: `d${i % 8}`, value: String(i) })));
    await waitUntil(() => new Set(seen.map((s) => s.value)).size >= 40, 30_000, 'the first 40');
    await members[1]!.stop(); // the other member takes its partitions over
    await p.send(topic, Array.from({ length: 40 }, (_, i) => ({ key: `d${i % 8}`, value: String(40 + i) })));
    await waitUntil(() => new Set(seen.map((s) => s.value)).size >= 80, 60_000, 'the next 40 after the rebalance');
    await members[0]!.stop();
    await p.close();
    expect(new Set(seen.map((s) => s.value)).size).toBe(80);
    await h.close();
  }, 120_000);
});
