/**
 * The forwarder's direct/spool state machine on a fake bus (the real one is proven by the outage
 * tests on Kafka): direct while the bus answers, every record of a failed produce and everything
 * after it to the spool, replayed in order before going direct again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Bus, BusMessage, BusProducer } from '../../shared/bus/bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { waitUntil } from '../../test/support/gateway.ts';
import { Forwarder } from './forwarder.ts';
import { createGatewayMetrics } from './metrics.ts';
import { Spool } from './spool.ts';

/** A bus whose produce can be switched off, and which remembers what it acknowledged. */
class FakeBus {
  up = true;
  /** How long connecting a producer takes. */
  connectMs = 0;
  acked: BusMessage[] = [];
  /** When each acknowledged message was taken. */
  ackedAt: number[] = [];
  sends = 0;
  asBus(): Bus {
    const producer: BusProducer = {
      send: async (_topic, messages) => {
        this.sends++;
        await new Promise((r) => setTimeout(r, 2));
        if (!this.up) throw new Error('bus away');
        this.acked.push(...messages);
        this.ackedAt.push(...messages.map(() => Date.now()));
      },
      close: async () => undefined,
    };
    return { kind: 'embedded', ensureTopics: async () => [], producer: async () => {
        await new Promise((r) => setTimeout(r, this.connectMs));
        return producer;
      }, consume: () => Promise.reject(new Error('unused')), committed: async () => new Map(), recordsWithKey: async () => [], deleteKey: async () => 0, close: async () => undefined };
  }
}

async function setup(bus: FakeBus, drainRate = 0) {
  const spool = await Spool.open(mkdtempSync(join(tmpdir(), 'fwd-spool-')), { maxBytes: 1_000_000, segmentBytes: 10_000, fsyncDelayMs: 1 });
  const metrics = createGatewayMetrics(new Registry());
  const f = new Forwarder(bus.asBus(), spool, { topic: 't', lingerMs: 1, batchMax: 10, sendTimeoutMs: 500, drainRate }, metrics, createLogger('fwd', 'silent'));
  metrics.spoolProbe.oldest = () => spool.oldestTimestamp();
  f.start();
  await waitUntil(() => f.direct, 5000, 'direct mode');
  return { f, spool, metrics };
}

/** A gauge's value as /metrics would serve it now. */
const gauge = async (g: { get(): Promise<{ values: { value: number }[] }> }) => (await g.get()).values[0]?.value ?? 0;

const rec = (i: number) => ({ key: `d${i % 3}`, timestamp: i, value: String(i) });

describe('Forwarder', () => {
  it('sends straight to the bus while it answers, in order', async () => {
    const bus = new FakeBus();
    const { f } = await setup(bus);
    await Promise.all(Array.from({ length: 25 }, (_, i) => f.submit(rec(i))));
    expect(bus.acked.map((m) => m.value)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(f.direct).toBe(true);
    await f.drain();
  });

  it('spools the failed batch and everything after it, then replays in order and goes direct again', async () => {
    const bus = new FakeBus();
    const { f, spool, metrics } = await setup(bus);
    await f.submit(rec(0));
    const contact = await gauge(metrics.busLastContact);
    expect(contact).toBeGreaterThan(Date.now() / 1000 - 60);
    bus.up = false;
    // Acknowledged (durable in the spool) although the bus is away.
    await Promise.all(Array.from({ length: 20 }, (_, i) => f.submit({ ...rec(1 + i), timestamp: Date.now() - 30_000 })));
    expect(f.direct).toBe(false);
    expect(spool.depthRecords).toBeGreaterThan(0);
    // What the centre's operators see of a cut-off gateway: the last contact stays, the backlog ages.
    expect(await gauge(metrics.busLastContact)).toBe(contact);
    expect(await gauge(metrics.spoolOldestAge)).toBeGreaterThanOrEqual(30);
    bus.up = true;
    await waitUntil(() => f.direct, 10_000, 'back to direct');
    await f.submit(rec(21));
    expect(bus.acked.map((m) => Number(m.value))).toEqual(Array.from({ length: 22 }, (_, i) => i));
    expect(spool.isEmpty).toBe(true);
    expect(await gauge(metrics.spoolOldestAge)).toBe(0);
    await f.drain();
  });

  it('sends a backlog at no more than its drain rate once the bus is back, in order', async () => {
    const bus = new FakeBus();
    const { f } = await setup(bus, 40);
    bus.up = false;
    await Promise.all(Array.from({ length: 60 }, (_, i) => f.submit(rec(i))));
    bus.up = true;
    await waitUntil(() => f.direct, 10_000, 'back to direct');
    expect(bus.acked.map((m) => Number(m.value))).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // 40 a second: no second holds more than that and one batch of 10, and the 60 take over a second.
    const at = bus.ackedAt;
    const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(50);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(1200);
    await f.drain();
  });

  it('replays what was spooled while it was connecting at start, before going direct', async () => {
    // A record accepted in the moment between "the spool is empty" and "the bus answers" (a source
    // that delivers right after a restart) must not be left behind in the spool.
    const bus = new FakeBus();
    bus.connectMs = 100;
    const spool = await Spool.open(mkdtempSync(join(tmpdir(), 'fwd-spool-')), { maxBytes: 1_000_000, segmentBytes: 10_000, fsyncDelayMs: 1 });
    const f = new Forwarder(bus.asBus(), spool, { topic: 't', lingerMs: 1, batchMax: 10, sendTimeoutMs: 500 }, createGatewayMetrics(new Registry()), createLogger('fwd', 'silent'));
    f.start();
    await new Promise((r) => setTimeout(r, 20));
    await f.submit(rec(0)); // spooled: not direct yet
    await waitUntil(() => f.direct, 5000, 'direct mode');
    await f.submit(rec(1));
    await waitUntil(() => bus.acked.length === 2, 5000, 'both on the bus').catch(() => undefined);
    expect(bus.acked.map((m) => m.value)).toEqual(['0', '1']);
    expect(spool.isEmpty).toBe(true);
    await f.drain();
  });

  it('refuses new records once it is shutting down', async () => {
    const bus = new FakeBus();
    const { f } = await setup(bus);
    await f.drain();
    await expect(f.submit(rec(1))).rejects.toThrow(/shutting down/);
  });
});
