/**
 * A meter that was offline for days still counts, on `npm start`'s embedded log and store while
 * its simulated towns publish live: a whole day uploaded three days late, in order, in 10-reading
 * messages, gets every 15-minute window aggregated — equal to a recomputation of what it sent, the
 * day's kWh equal to its counter's rise — and nothing is dead-lettered. (The same on Kafka and
 * InfluxDB: test/hostile/event-time.test.ts.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { settledAggregates } from '../support/compare.ts';
import { energySeries, publishReadings } from '../support/energy-series.ts';
import { waitUntil } from '../support/gateway.ts';
import { expectedEnergy } from '../support/recompute.ts';
import { freePort } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

const DAY = 86_400_000;

describe('a late day on npm start', () => {
  let node: Spawned | undefined;
  afterAll(() => node?.child.kill('SIGTERM'));

  it('aggregates a day uploaded three days late while the simulated towns are live, dead-lettering nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'late-day-'));
    const mqttPort = await freePort();
    node = await spawnScript('npm start', ['start.ts', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(await freePort()), '--backfill', '0', '--devices', '8'], { OPS_PORT_BASE: '0', BUS_PARTITIONS: '1' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']);
    const store = new SqliteStore(join(dir, 'store.db'));
    // The towns are live, on the one partition the meter's readings join: their readings set its watermark to now.
    await waitUntil(() => store.points('energy').length > 20, 60_000, 'live readings stored');
    const secret = await new DeviceRegistry(join(dir, 'devices.json')).add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-late-meter' });
    const dayStart = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const backlog = energySeries('ore-late-meter', 'orestiada', dayStart, dayStart + DAY, 5);
    await publishReadings(`mqtt://127.0.0.1:${mqttPort}`, { id: 'ore-late-meter', secret, municipality: 'orestiada' }, backlog.out, 10);

    const expected = expectedEnergy(new Map([['ore-late-meter', backlog.truth]]));
    for (const key of [...expected.keys()]) if (Number(key.split('@')[1]) >= dayStart + DAY) expected.delete(key); // the midnight reading's window may stay open
    const read = () => new Map(store.points('energy_15m').map((p) => [`${p.tags.device}@${p.ts}`, Object.fromEntries(Object.entries(p.fields).filter(([k, v]) => k !== 'carry' && typeof v === 'number')) as Record<string, number>]));
    const windows = await settledAggregates(read, expected, 'energy_15m', 120_000);
    await store.close();
    expect(windows.size).toBe(96);
    const kwh = [...windows.values()].reduce((s, f) => s + (f.energy_kwh ?? 0), 0);
    const truthKwh = (backlog.out.at(-1)!.energy_wh - backlog.out[0]!.energy_wh) / 1000;
    const bus = openReadOnly(join(dir, 'bus.db'));
    const dead = bus.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'telemetry.deadletter'").all().map((r) => JSON.parse(r.value.toString()) as { deviceId?: string; reason: string });
    bus.close();
    console.log(`[late day, npm start] 1,441 readings 3 days late with the towns live: ${windows.size} windows, ${kwh.toFixed(2)} kWh against the counter's ${truthKwh.toFixed(2)}; dead letters: ${dead.length}`);
    expect(dead.filter((d) => d.deviceId === 'ore-late-meter')).toEqual([]);
    expect(Math.abs(kwh - truthKwh)).toBeLessThan(truthKwh * 0.005);
  }, 240_000);
});
