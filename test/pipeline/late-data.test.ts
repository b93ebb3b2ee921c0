/**
 * A meter that was offline for days still counts, proved the same way (test/support/late-backlog.ts)
 * on both engine pairs, each with live devices publishing on the backlog's partition:
 *   - `npm start` (embedded log and store), its simulated towns live, killed whole with SIGKILL;
 *   - Kafka + InfluxDB, simulated towns live through a gateway, the aggregator a process of its
 *     own killed with SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openReadOnly } from '../../shared/embedded/sqlite.ts';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetterSchema } from '../../shared/schemas/deadletter.ts';
import { waitUntil } from '../support/gateway.ts';
import { readPoints } from '../support/influx-read.ts';
import { readTopic } from '../support/kafka-read.ts';
import { counterGap, threeDayBacklog, type LateDataHarness } from '../support/late-backlog.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { freePort, testKafka } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';
import { simulate } from '../support/verify.ts';

describe('late data on npm start', () => {
  let node: Spawned | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'late-data-'));
  let mqttPort = 0;
  let httpPort = 0;
  let store: SqliteStore | undefined;
  // All devices on one partition: the towns' live readings run days ahead of the meters'.
  const start = async () =>
    (node = await spawnScript('npm start', ['start.ts', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--backfill', '0', '--devices', '8'], { OPS_PORT_BASE: '0', BUS_PARTITIONS: '1' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']));
  const opened = () => (store ??= new SqliteStore(join(dir, 'store.db')));
  const h: LateDataHarness = {
    name: 'npm start',
    mqttUrl: () => `mqtt://127.0.0.1:${mqttPort}`,
    addMeter: (municipality, deviceId) => new DeviceRegistry(join(dir, 'devices.json')).add({ municipality, kind: 'energy', deviceId }),
    energyWindows: async () => new Map(opened().points('energy_15m').map((p) => [`${p.tags.device}@${p.ts}`, Object.fromEntries(Object.entries(p.fields).filter(([k, v]) => k !== 'carry' && typeof v === 'number')) as Record<string, number>])),
    rawStored: async (device, ts) => (await opened().devicePoints('energy', device, ts, ts + 1)).length > 0,
    deadLetters: async (device) => {
      const bus = openReadOnly(join(dir, 'bus.db'));
      const dead = bus.prepare<[], { value: Buffer }>("SELECT value FROM records WHERE topic = 'telemetry.deadletter'").all().map((r) => JSON.parse(r.value.toString()) as { deviceId?: string });
      bus.close();
      return dead.filter((d) => d.deviceId === device);
    },
    killAggregationAndRestart: async () => {
      node!.child.kill('SIGKILL');
      await new Promise((r) => node!.child.once('exit', r));
      await start();
    },
  };

  beforeAll(async () => {
    [mqttPort, httpPort] = [await freePort(), await freePort()];
    await start();
    await waitUntil(async () => opened().points('energy').length > 20, 60_000, 'the towns live');
  });
  afterAll(async () => {
    node?.child.kill('SIGTERM');
    await store?.close();
  });

  it('aggregates three days a meter uploads late, through a kill -9 halfway: each day right, nothing dead-lettered, live devices not held up', () => threeDayBacklog(h), 300_000);
  it("counts a counter's jump after six silent hours once, and keeps the day's figure when the missing readings arrive", () => counterGap(h), 300_000);
});

describe('late data on Kafka and InfluxDB', () => {
  let p: Pipeline;
  let aggregator: ChildProcess;
  const towns = new AbortController();
  let live: Promise<unknown>;
  const h: LateDataHarness = {
    name: 'Kafka + InfluxDB',
    mqttUrl: () => p.gw.url,
    addMeter: (municipality, deviceId) => new DeviceRegistry(p.gw.registryPath).add({ municipality, kind: 'energy', deviceId }),
    energyWindows: () => readPoints(p.store, 'energy_15m'),
    rawStored: async (device, ts) => (await p.store.devicePoints('energy', device, ts, ts + 1)).length > 0,
    deadLetters: async (device) => (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).map((r) => deadLetterSchema.parse(JSON.parse(r.value))).filter((d) => d.deviceId === device),
    killAggregationAndRestart: async () => {
      aggregator.kill('SIGKILL');
      await new Promise((r) => aggregator.once('exit', r));
      aggregator = await p.spawnWorker('aggregator');
    },
  };

  beforeAll(async () => {
    p = await startPipeline({ inProcess: ['normalizer', 'writer'], extraEnv: { BUS_PARTITIONS: '1' } });
    aggregator = await p.spawnWorker('aggregator');
    // Simulated towns on the live clock, one message a second per device, until the tests end.
    live = simulate(p, { devices: 8, rate: 1, count: undefined, durationMs: 20 * 60_000, simStart: undefined, seed: 5, signal: towns.signal });
    await waitUntil(async () => (await readPoints(p.store, 'energy')).size > 20, 60_000, 'the towns live');
  });
  afterAll(async () => {
    towns.abort();
    await live.catch(() => undefined);
    aggregator?.kill('SIGTERM');
    await p?.close();
  });

  it('aggregates three days a meter uploads late, through a kill -9 of the aggregator halfway: each day right, nothing dead-lettered, live devices not held up', () => threeDayBacklog(h), 300_000);
  it("counts a counter's jump after six silent hours once, and keeps the day's figure when the missing readings arrive", () => counterGap(h), 300_000);
});
