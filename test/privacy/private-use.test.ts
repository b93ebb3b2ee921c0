/**
 * Private use of vehicles on the real Kafka and InfluxDB: Kalamata declares working hours, a
 * Mytilene car is marked use=private. Published through the gateway, a private reading reaches
 * the store without its position (counted by the normaliser), its hour still gets a distance (from
 * the speeds), and a rejected message of a vehicle that may be in private use leaves its payload
 * out of the dead-letter topic — while a working vehicle's readings and dead letters keep theirs.
 */
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetterSchema, type DeadLetter } from '../../shared/schemas/deadletter.ts';
import { offsetAt } from '../../shared/kpi/periods.ts';
import { waitUntil } from '../support/gateway.ts';
import { readPoints } from '../support/influx-read.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';

const MIN = 60_000;
const DAY = 86_400_000;

/** 15:00 Athens time on a Wednesday at least two days ago (working hours 07:00–17:00 end two hours in). */
function wednesdayAfternoon(): number {
  let day = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
  while (new Date(day).getUTCDay() !== 3) day -= DAY;
  const utc = day + 15 * 3_600_000;
  return utc - offsetAt(utc);
}

describe('private use of a vehicle', () => {
  let p: Pipeline | undefined;
  afterAll(async () => {
    await p?.close();
  });

  it('keeps no position of a vehicle in private use — not in the store, not in the dead letters — and counts what it dropped', async () => {
    p = await startPipeline({ inProcess: ['normalizer', 'writer', 'aggregator'], extraEnv: { FLEET_WORKING_HOURS: '{"kalamata": {"days": [1,2,3,4,5], "from": "07:00", "to": "17:00"}}' } });
    const registry = new DeviceRegistry(p.gw.registryPath);
    const vehicles: { municipality: string; deviceId: string; attrs: Record<string, string> }[] = [
      { municipality: 'kalamata', deviceId: 'kal-van-1', attrs: {} }, // private from 17:00
      { municipality: 'mytilene', deviceId: 'myt-car-1', attrs: { use: 'private' } }, // always
      { municipality: 'mytilene', deviceId: 'myt-bus-1', attrs: {} }, // never: no hours in Mytilene
    ];
    const t0 = wednesdayAfternoon();
    const N = 240; // 15:00–19:00, a reading a minute at 36 km/h: 0.6 km a minute
    for (const v of vehicles) {
      const secret = await registry.add({ municipality: v.municipality, kind: 'fleet', deviceId: v.deviceId }, v.attrs);
      const c = await mqtt.connectAsync(p.gw.url, { clientId: v.deviceId, username: v.deviceId, password: secret });
      const topic = `city/${v.municipality}/fleet/${v.deviceId}/telemetry`;
      for (let i = 0; i < N; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => ({ ts: t0 + (i + j) * MIN, lat: 37 + (i + j) * 0.005, lon: 22.1, heading_deg: 0, speed_kmh: 36, ignition: true, fuel_pct: 60 }));
        await c.publishAsync(topic, JSON.stringify(batch), { qos: 1 });
      }
      // One message with a reading out of range: a dead letter.
      await c.publishAsync(topic, JSON.stringify({ ts: t0 + N * MIN, lat: 137.5, lon: 22.1 }), { qos: 1 });
      await c.endAsync();
    }

    const store = p.store;
    let raw = new Map<string, Record<string, number>>();
    await waitUntil(
      async () => {
        raw = await readPoints(store, 'fleet');
        return raw.size === 3 * N;
      },
      90_000,
      'every reading stored',
    );
    const points = (device: string) => [...raw].filter(([k]) => k.startsWith(`${device}@`)).map(([, f]) => f);
    const withPosition = (device: string) => points(device).filter((f) => 'lat' in f || 'lon' in f || 'heading_deg' in f).length;
    const privatePoints = (device: string) => points(device).filter((f) => f.private_use === 1 && f.speed_kmh === 36 && f.fuel_pct === 60 && f.ignition === 1).length;
    expect([withPosition('kal-van-1'), privatePoints('kal-van-1')]).toEqual([120, 120]); // 15:00–17:00 located, 17:00–19:00 not
    expect([withPosition('myt-car-1'), privatePoints('myt-car-1')]).toEqual([0, N]);
    expect([withPosition('myt-bus-1'), privatePoints('myt-bus-1')]).toEqual([N, 0]);

    const dropped = await p.registries.find((r) => r.service === 'normalizer')!.registry.getSingleMetric('normalizer_private_positions_dropped_total')!.get();
    expect(Object.fromEntries(dropped.values.map((v) => [v.labels.municipality, v.value]))).toEqual({ kalamata: 120, mytilene: N });

    // The hours still get their distance: from the positions by day, from the speeds in private use.
    let windows = new Map<string, Record<string, number>>();
    await waitUntil(
      async () => {
        windows = await readPoints(store, 'fleet_1h');
        return ['kal-van-1', 'myt-car-1'].every((d) => [...windows.keys()].filter((k) => k.startsWith(`${d}@`)).length >= 3);
      },
      90_000,
      'the vehicles\' first three hours aggregated',
    );
    const hour = (device: string, h: number) => windows.get(`${device}@${Math.floor(t0 / 3_600_000) * 3_600_000 + h * 3_600_000}`)?.distance_km;
    expect(hour('myt-car-1', 1)).toBeCloseTo(60 * 0.6, 6); // 60 one-minute intervals at 36 km/h
    expect(hour('kal-van-1', 2)).toBeCloseTo(60 * 0.6, 6); // 17:00–18:00: private
    expect(hour('kal-van-1', 1)).toBeGreaterThan(30); // 16:00–17:00: by position, 0.56 km a minute northwards

    let dead: DeadLetter[] = [];
    await waitUntil(
      async () => {
        dead = (await readTopic(p!.kafka, p!.env.TOPIC_DEADLETTER!)).map((r) => deadLetterSchema.parse(JSON.parse(r.value)));
        return dead.length >= 3;
      },
      30_000,
      'the dead letters',
    );
    const of = (device: string) => dead.find((d) => d.deviceId === device)!;
    expect(dead).toHaveLength(3);
    for (const d of ['kal-van-1', 'myt-car-1']) {
      expect([of(d).reason.slice(0, 5), of(d).original, of(d).originalWithheld?.slice(0, 11)]).toEqual(['lat: ', '', 'private use']);
      expect(JSON.stringify(of(d))).not.toContain('22.1');
    }
    expect(JSON.parse(of('myt-bus-1').original)).toHaveProperty('payload');
    console.info(`[private use] ${120 + N} private readings stored without position, 0 positions in 2 withheld dead letters; a working vehicle's ${N} readings and its dead letter kept whole`);
  }, 240_000);
});
