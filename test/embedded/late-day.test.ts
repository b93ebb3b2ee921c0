/**
 * A meter that was offline for days still counts, on `npm start`'s embedded log and store while
 * its simulated towns publish live on the same partition:
 *   - a whole day uploaded three days late, in order, in 10-reading messages, with `npm start`
 *     killed with SIGKILL halfway through (while it recomputes the reopened windows) and started
 *     again: every 15-minute window equals a recomputation of what the meter sent, the day's kWh
 *     its counter's rise, and nothing is dead-lettered;
 *   - a meter silent for six hours whose counter then jumps: the day's kWh is the counter's rise
 *     over the day (the jump counts in the window of the reading after the silence, at the average
 *     power over the gap), and when the missing readings arrive later the day's figure stays.
 * (The same late day on Kafka and InfluxDB: test/hostile/event-time.test.ts.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const HOUR = 3_600_000;

describe('late days on npm start', () => {
  let node: Spawned | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'late-day-'));
  let mqttPort = 0;
  let httpPort = 0;
  // All devices on one partition: the towns' live readings set the watermark the meters are behind.
  const start = async () =>
    (node = await spawnScript('npm start', ['start.ts', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--backfill', '0', '--devices', '8'], { OPS_PORT_BASE: '0', BUS_PARTITIONS: '1' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']));
  const registry = () => new DeviceRegistry(join(dir, 'devices.json'));
  const url = () => `mqtt://127.0.0.1:${mqttPort}`;
  /** The store's energy windows, keyed device@start, without the carry. */
  const windows = async () => {
    const store = new SqliteStore(join(dir, 'store.db'));
    const m = new Map(store.points('energy_15m').map((p) => [`${p.tags.device}@${p.ts}`, Object.fromEntries(Object.entries(p.fields).filter(([k, v]) => k !== 'carry' && typeof v === 'number')) as Record<string, number>]));
    await store.close();
    return m;
  };
  const deadLettersOf = (device: string) => {
    const bus = openReadOnly(join(dir, 'bus.db'));
    const dead = bus.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'telemetry.deadletter'").all().map((r) => JSON.parse(r.value.toString()) as { deviceId?: string; reason: string });
    bus.close();
    return dead.filter((d) => d.deviceId === device);
  };
  const dayKwh = (w: Map<string, Record<string, number>>, device: string) => [...w].filter(([k]) => k.startsWith(`${device}@`)).reduce((s, [, f]) => s + (f.energy_kwh ?? 0), 0);

  beforeAll(async () => {
    [mqttPort, httpPort] = [await freePort(), await freePort()];
    await start();
    await waitUntil(
      async () => {
        const store = new SqliteStore(join(dir, 'store.db'));
        const n = store.points('energy').length;
        await store.close();
        return n > 20;
      },
      60_000,
      'the towns live',
    );
  });
  afterAll(() => node?.child.kill('SIGTERM'));

  it('aggregates a day uploaded three days late, through a kill -9 halfway, dead-lettering nothing', async () => {
    const secret = await registry().add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-late-meter' });
    const device = { id: 'ore-late-meter', secret, municipality: 'orestiada' };
    const dayStart = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const backlog = energySeries(device.id, device.municipality, dayStart, dayStart + DAY, 5);
    const half = 72 * 10;
    await publishReadings(url(), device, backlog.out.slice(0, half), 10);
    // Killed while it works through the reopened windows of the first half, then started again.
    node!.child.kill('SIGKILL');
    await new Promise((r) => node!.child.once('exit', r));
    await start();
    await publishReadings(url(), device, backlog.out.slice(half), 10);

    const expected = expectedEnergy(new Map([[device.id, backlog.truth]]));
    for (const key of [...expected.keys()]) if (Number(key.split('@')[1]) >= dayStart + DAY) expected.delete(key); // the midnight reading's window may stay open
    const got = await settledAggregates(windows, expected, 'energy_15m', 120_000);
    expect(got.size).toBe(96);
    const kwh = dayKwh(got, device.id);
    const truthKwh = (backlog.out.at(-1)!.energy_wh - backlog.out[0]!.energy_wh) / 1000;
    const dead = deadLettersOf(device.id);
    console.log(`[late day, npm start, kill -9 halfway] 1,441 readings 3 days late with the towns live: ${got.size} windows, ${kwh.toFixed(2)} kWh against the counter's ${truthKwh.toFixed(2)}; dead letters: ${dead.length}`);
    expect(dead).toEqual([]);
    expect(Math.abs(kwh - truthKwh)).toBeLessThan(truthKwh * 0.005);
  }, 240_000);

  it("counts a counter's jump after six silent hours once, and keeps the day's figure when the missing readings arrive", async () => {
    const secret = await registry().add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-gap-meter' });
    const device = { id: 'ore-gap-meter', secret, municipality: 'orestiada' };
    const dayStart = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
    const all = energySeries(device.id, device.municipality, dayStart, dayStart + DAY - 60_000, 7);
    const silent = (r: { ts: number }) => r.ts >= dayStart + 8 * HOUR && r.ts < dayStart + 14 * HOUR;
    const truthKwh = (all.out.at(-1)!.energy_wh - all.out[0]!.energy_wh) / 1000;
    await publishReadings(url(), device, all.out.filter((r) => !silent(r)), 10);
    const withGap = expectedEnergy(new Map([[device.id, all.truth.filter((t) => !silent(t))]]));
    const before = await settledAggregates(windows, withGap, 'energy_15m', 120_000);
    const kwhWithGap = dayKwh(before, device.id);
    // The six hours arrive later (the meter's buffer, or its network server's).
    await publishReadings(url(), device, all.out.filter(silent), 10);
    const full = expectedEnergy(new Map([[device.id, all.truth]]));
    const after = await settledAggregates(windows, full, 'energy_15m', 120_000);
    const kwhFull = dayKwh(after, device.id);
    console.log(`[counter gap] day with 6 silent hours: ${kwhWithGap.toFixed(2)} kWh; after the missing readings: ${kwhFull.toFixed(2)} kWh; the counter rose ${truthKwh.toFixed(2)}`);
    expect(Math.abs(kwhWithGap - truthKwh)).toBeLessThan(truthKwh * 0.005);
    expect(Math.abs(kwhFull - kwhWithGap)).toBeLessThan(1e-6);
    expect(deadLettersOf(device.id)).toEqual([]);
  }, 240_000);
});
