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
    const w = await startNormalizer(cfg, { bus: failingFirstSendTo(bus, 'normalized'), log: createLogger('t', 'silent'), registry, onFatal: () => undefined, devices: new DeviceRegistry(join(dir, 'devices.json')) });
    for (let i = 0; i < 500 && bus.lag('n', 'raw') > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await w.stop();

    const db = openReadOnly(bus.path);
    const out = db.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'normalized' ORDER BY offset").all().map((r) => JSON.parse(r.value.toString()) as { ts: number; values: { energy_wh: number } });
    db.close();
    expect(out.map((r) => [r.ts, r.values.energy_wh])).toEqual([
      [receivedAt - 3000, 100],
      [receivedAt - 2000, 101],
    ]);
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
    expect(await metric('normalizer_duplicates_total')).toBe(1);
    expect(await metric('normalizer_readings_out_total')).toBe(2);
    await bus.close();
  });
});
