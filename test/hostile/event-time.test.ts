/**
 * Event time that no device can poison, on the real Kafka and InfluxDB, all devices on one
 * partition: a device whose clock is a day ahead is dead-lettered, and a meter that uploads four
 * hours of readings buffered during an outage — while another municipality's device is live on
 * the same partition — gets every window aggregated, equal to a recomputation of what it sent.
 * (Days uploaded late, with towns live and a kill -9: test/pipeline/late-data.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetterSchema } from '../../shared/schemas/deadletter.ts';
import { settledAggregates } from '../support/compare.ts';
import { energySeries, publishReadings, type EnergyReadingOut } from '../support/energy-series.ts';
import { countRaw, readPoints } from '../support/influx-read.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { expectedEnergy } from '../support/recompute.ts';
import { testKafka } from '../support/services.ts';

const MIN = 60_000;
const WINDOW = 15 * MIN;

describe('event time per device', () => {
  let p: Pipeline;
  const secrets: Record<string, string> = {};
  beforeAll(async () => {
    p = await startPipeline({ extraEnv: { BUS_PARTITIONS: '1', IDLE_CLOSE_MS: '5000' } });
    const reg = new DeviceRegistry(p.gw.registryPath);
    secrets['kal-ahead'] = await reg.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-ahead' });
    secrets['kal-live'] = await reg.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-live' });
    secrets['pet-outage'] = await reg.add({ municipality: 'petroupoli', kind: 'energy', deviceId: 'pet-outage' });
    secrets['ore-weekend'] = await reg.add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-weekend' });
  });
  afterAll(() => p.close());

  const publish = (device: string, municipality: string, readings: EnergyReadingOut[], perMessage = 1) => publishReadings(p.gw.url, { id: device, secret: secrets[device]!, municipality }, readings, perMessage);

  const series = energySeries;

  it('dead-letters a clock a day ahead, and aggregates a live device and an outage upload on the same partition', async () => {
    const now = Math.floor(Date.now() / WINDOW) * WINDOW;
    await publish('kal-ahead', 'kalamata', [{ ts: Date.now() + 23 * 3_600_000, energy_wh: 1, power_w: 1 }]);
    const live = series('kal-live', 'kalamata', now - 4 * 3_600_000, now - 5 * MIN, 1);
    await publish('kal-live', 'kalamata', live.out);
    // The meter comes back after four hours and uploads what it buffered.
    const outage = series('pet-outage', 'petroupoli', now - 4 * 3_600_000, now - 30 * MIN, 2);
    await publish('pet-outage', 'petroupoli', outage.out);

    // Each device's windows close by its own progress, its last ones once it has been quiet a while
    // and the wall clock has passed them by the delay and the lateness (6 min): the newest may not yet.
    const expected = expectedEnergy(new Map([['kal-live', live.truth], ['pet-outage', outage.truth]]));
    for (const key of [...expected.keys()]) if (Number(key.split('@')[1]) + WINDOW > Date.now() - 6 * MIN) expected.delete(key);
    await settledAggregates(() => readPoints(p.store, 'energy_15m'), expected, 'energy_15m', 90_000, async () => (await countRaw(p.store, 'energy')) === live.out.length + outage.out.length);
    expect([...expected.keys()].filter((k) => k.startsWith('pet-outage@')).length).toBe(15); // 4 h − 30 min of readings: 15 quarter hours

    const dead = (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).map((r) => deadLetterSchema.parse(JSON.parse(r.value)));
    expect(dead.map((d) => [d.deviceId, d.code])).toEqual([['kal-ahead', 'ts_in_future']]);
    const recomputed = (await p.registries.find((r) => r.service === 'aggregator')!.registry.getMetricsAsJSON()).find((m) => m.name === 'aggregator_windows_recomputed_total');
    // In order, the upload is never late: its windows are computed as they close, none recomputed.
    expect(recomputed?.values.reduce((s, v) => s + v.value, 0) ?? 0).toBe(0);
  }, 150_000);
});
