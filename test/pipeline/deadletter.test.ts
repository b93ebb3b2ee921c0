/** Bad input gets a dead-letter record with a reason; the good readings around it all arrive. */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetterSchema, type DeadLetter } from '../../shared/schemas/deadletter.ts';
import { defaultFaults } from '../../simulators/faults.ts';
import { runSimulation, simulationDefaults } from '../../simulators/runner.ts';
import { waitUntil } from '../support/gateway.ts';
import { readGroundTruth } from '../support/ground-truth.ts';
import { countRaw } from '../support/influx-read.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { deliveredSeries } from '../support/recompute.ts';
import { testKafka } from '../support/services.ts';

describe('dead-letter', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ inProcess: ['normalizer', 'writer'] });
  });
  afterAll(() => p.close());

  it('dead-letters malformed, out-of-range and unknown-format payloads with a reason and delivers the rest', async () => {
    const summary = await runSimulation({
      ...simulationDefaults(),
      mqttUrl: p.gw.url,
      devices: 12,
      rate: 40,
      count: 60,
      seed: 77,
      simStart: Date.UTC(2026, 10, 17),
      faults: { ...defaultFaults(), enabled: new Set(['malformed']), rate: 0.1 },
      registryPath: p.gw.registryPath,
      secretsPath: join(p.env.DATA_DIR!, 'sim-secrets.json'),
      groundTruthPath: join(p.env.DATA_DIR!, 'truth.jsonl'),
    });
    const truth = readGroundTruth(summary.groundTruthPath);
    const malformed = truth.filter((t) => t.fault === 'malformed');
    expect(malformed.length).toBeGreaterThan(20);

    // Hand-made bad payloads from a registered bus, between good ones.
    const secret = await new DeviceRegistry(p.gw.registryPath).add({ municipality: 'kalamata', kind: 'fleet', deviceId: 'kal-bus-dl' });
    const bus = await mqtt.connectAsync(p.gw.url, { clientId: 'kal-bus-dl', username: 'kal-bus-dl', password: secret });
    const topic = 'city/kalamata/fleet/kal-bus-dl/telemetry';
    const t = Date.UTC(2026, 10, 17, 1);
    const payloads = [
      JSON.stringify({ ts: t, lat: 37.03, lon: 22.11 }), // good
      JSON.stringify({ ts: t + 1000, lat: 137.03, lon: 22.11 }), // out of range
      '"just a string"', // unknown format
      JSON.stringify([{ ts: t + 2000, lat: 37.04, lon: 22.12, speed_kmh: 31 }, { ts: t + 3000, lat: 37.05, lon: 22.13, speed_kmh: -4 }]), // one good, one out of range
      JSON.stringify({ ts: t + 4000, lat: 37.06, lon: 22.14 }), // good
    ];
    for (const payload of payloads) await bus.publishAsync(topic, payload, { qos: 1 });
    await bus.endAsync();

    const wantDead = malformed.length + 3;
    let dead: DeadLetter[] = [];
    await waitUntil(
      async () => {
        dead = (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).map((r) => deadLetterSchema.parse(JSON.parse(r.value)));
        return dead.length >= wantDead;
      },
      30_000,
      'dead letters',
    ).catch(() => undefined);
    expect(dead).toHaveLength(wantDead);
    for (const d of dead) {
      expect(d.stage).toBe('normalize');
      expect(d.reason.length).toBeGreaterThan(5);
      expect(d.source).toMatchObject({ topic: p.env.TOPIC_RAW });
      expect(JSON.parse(d.original)).toHaveProperty('payload'); // the original raw record, as consumed
    }
    const mine = dead.filter((d) => d.deviceId === 'kal-bus-dl').map((d) => d.reason);
    expect(mine).toEqual(expect.arrayContaining([expect.stringMatching(/^lat: /), expect.stringMatching(/^payload: unknown format/), expect.stringMatching(/^speed_kmh: /)]));
    expect(dead.find((d) => d.reason.startsWith('speed_kmh'))?.index).toBe(1);
    // Every malformed simulator message is among the dead letters, by device.
    const deadPerDevice = dead.reduce((m, d) => m.set(d.deviceId!, (m.get(d.deviceId!) ?? 0) + 1), new Map<string, number>());
    const malformedPerDevice = malformed.reduce((m, d) => m.set(d.deviceId, (m.get(d.deviceId) ?? 0) + 1), new Map<string, number>());
    for (const [device, n] of malformedPerDevice) expect(deadPerDevice.get(device), device).toBe(n);

    // All good readings around them are stored.
    let good = 0;
    for (const rs of deliveredSeries(truth).values()) good += rs.length;
    const total = async () => (await countRaw(p.store, 'energy')) + (await countRaw(p.store, 'fleet')) + (await countRaw(p.store, 'parking'));
    await waitUntil(async () => (await total()) >= good + 3, 30_000, 'good readings').catch(() => undefined);
    expect(await total()).toBe(good + 3);
  });
});
