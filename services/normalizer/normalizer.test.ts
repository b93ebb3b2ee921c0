/** The normaliser stage on the embedded bus: a produce that fails must not make its readings duplicates of themselves. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Bus } from '../../shared/bus/bus.ts';
import { parseConfig } from '../../shared/config.ts';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import { SqliteBus } from '../../shared/embedded/sqlite-bus.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import type { NormalizedMessage } from '../../shared/schemas/readings.ts';
import { normalizerEnv } from './config.ts';
import { startNormalizer } from './normalizer.ts';

const receivedAt = Date.UTC(2026, 10, 25, 12, 0, 0);
const envelope = (ts: number, energyWh: number, deviceId = 'kal-m-1') =>
  JSON.stringify({ gatewayId: 'gw-1', receivedAt, municipality: 'kalamata', kind: 'energy', deviceId, payload: JSON.stringify({ ts, energy_wh: energyWh }), payloadEncoding: 'utf8' });

/** The bus, except that the first send to `topic` fails (a broker going away mid-produce). */
function failingFirstSendTo(bus: SqliteBus, topic: string): Bus {
  let failed = false;
  return Object.assign(Object.create(bus) as Bus, {
    producer: async () => {
      const p = await bus.producer();
      return {
        send: async (t: string, messages: Parameters<typeof p.send>[1]) => {
          if (t === topic && !failed) {
            failed = true;
            throw new Error('Connection error: connect ECONNREFUSED');
          }
          await p.send(t, messages);
        },
        close: () => p.close(),
      };
    },
  });
}

describe('the normaliser stage', () => {
  it('forwards every reading of a batch whose first produce failed (and still drops real duplicates)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-'));
    const bus = new SqliteBus(join(dir, 'bus.db'));
    await bus.ensureTopics(['raw', 'normalized', 'dead'].map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
    const raw = await bus.producer();
    // The third record repeats the first reading: a true duplicate, forwarded once.
    await raw.send('raw', [envelope(receivedAt - 3000, 100), envelope(receivedAt - 2000, 101), envelope(receivedAt - 3000, 100)].map((value) => ({ key: 'kal-m-1', value })));
    const cfg = parseConfig(normalizerEnv, { TOPIC_RAW: 'raw', TOPIC_NORMALIZED: 'normalized', TOPIC_DEADLETTER: 'dead', BUS_GROUP_ID: 'n', DATA_DIR: dir });
    const registry = new Registry();
    const w = await startNormalizer(cfg, { bus: failingFirstSendTo(bus, 'normalized'), log: createLogger('t', 'silent'), registry, onFatal: () => undefined, deadLetterStage: 'normalize', devices: new DeviceRegistry(join(dir, 'devices.json')) });
    for (let i = 0; i < 500 && bus.lag('n', 'raw') > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await w.stop();

    const db = openReadOnly(bus.path);
    const out = db.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'normalized' ORDER BY offset").all().map((r) => JSON.parse(r.value.toString()) as NormalizedMessage);
    db.close();
    // One record per device message; the third message, all duplicates, is not produced again.
    expect(out.map((m) => [m.deviceId, m.readings.map((r) => [r.ts, (r.values as { energy_wh: number }).energy_wh])])).toEqual([
      ['kal-m-1', [[receivedAt - 3000, 100]]],
      ['kal-m-1', [[receivedAt - 2000, 101]]],
    ]);
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
    expect(await metric('normalizer_duplicates_total')).toBe(1);
    expect(await metric('normalizer_readings_out_total')).toBe(2);
    await bus.close();
  });

  it('emits one record per device message, the device named once and its readings in the order sent; a replay yields the identical bytes', async () => {
    const run = async () => {
      const dir = mkdtempSync(join(tmpdir(), 'normalizer-'));
      const bus = new SqliteBus(join(dir, 'bus.db'));
      await bus.ensureTopics(['raw', 'normalized', 'dead'].map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
      const raw = await bus.producer();
      // Ten readings in one message, sent out of time order, one of them repeated, one invalid.
      const items: unknown[] = Array.from({ length: 10 }, (_, i) => ({ ts: receivedAt - (10 - ((i * 7) % 10)) * 60_000, energy_wh: 500 + i }));
      items.push(items[3], { ts: receivedAt, energy_wh: -5 });
      const value = JSON.stringify({ gatewayId: 'gw-1', receivedAt, municipality: 'kalamata', kind: 'energy', deviceId: 'kal-m-2', payload: JSON.stringify(items), payloadEncoding: 'utf8' });
      await raw.send('raw', [{ key: 'kal-m-2', value }]);
      const cfg = parseConfig(normalizerEnv, { TOPIC_RAW: 'raw', TOPIC_NORMALIZED: 'normalized', TOPIC_DEADLETTER: 'dead', BUS_GROUP_ID: 'n', DATA_DIR: dir });
      const w = await startNormalizer(cfg, { bus, log: createLogger('t', 'silent'), registry: new Registry(), onFatal: () => undefined, deadLetterStage: 'normalize', devices: new DeviceRegistry(join(dir, 'devices.json')) });
      for (let i = 0; i < 500 && bus.lag('n', 'raw') > 0; i++) await new Promise((r) => setTimeout(r, 20));
      await w.stop();
      const db = openReadOnly(bus.path);
      const rows = db.prepare<[], { topic: string; key: string; value: Buffer }>('SELECT topic, key, value FROM records ORDER BY topic, offset').all();
      db.close();
      await bus.close();
      return { normalized: rows.filter((r) => r.topic === 'normalized'), dead: rows.filter((r) => r.topic === 'dead'), items };
    };
    const first = await run();
    const again = await run();
    expect(first.normalized).toHaveLength(1);
    expect(String(first.normalized[0]!.key)).toBe('kal-m-2');
    const m = JSON.parse(first.normalized[0]!.value.toString()) as NormalizedMessage;
    expect(m).toMatchObject({ kind: 'energy', deviceId: 'kal-m-2', municipality: 'kalamata', gatewayId: 'gw-1', receivedAt });
    expect(m.readings.map((r) => r.ts)).toEqual((first.items.slice(0, 10) as { ts: number }[]).map((x) => x.ts));
    expect(first.dead).toHaveLength(1); // the invalid reading, one dead letter for the record
    expect(again.normalized[0]!.value.toString()).toBe(first.normalized[0]!.value.toString());
  });
});
