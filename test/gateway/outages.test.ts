/**
 * Nothing acknowledged is lost: Kafka stopped mid-stream, and the gateway killed with SIGKILL
 * mid-stream (forwarding directly, and while spooling). Real Kafka, real MQTT, real processes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaPid, startKafka, stopKafka, waitKafkaReady } from '../../engines/kafka.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { runSimulation, simulationDefaults, type SimulationOptions } from '../../simulators/runner.ts';
import { spawnGateway, startTestGateway, waitUntil } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { countBy, readGroundTruth, readingKeys } from '../support/ground-truth.ts';
import { freePort, leaveKafkaRunning, testKafka, unique } from '../support/services.ts';
import { sleep } from '../../shared/time.ts';


function simulation(url: string, dir: string, registryPath: string, over: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    ...simulationDefaults(),
    mqttUrl: url,
    devices: 6,
    rate: 20,
    count: 200,
    seed: 9,
    simStart: Date.UTC(2026, 10, 21),
    drainTimeoutMs: 90_000,
    registryPath,
    secretsPath: join(dir, 'sim-secrets.json'),
    groundTruthPath: join(dir, 'truth.jsonl'),
    ...over,
  };
}

/** Every acknowledged reading is in the topic; per device, first appearances keep the send order. */
async function expectAckedInKafka(topic: string, truthPath: string) {
  const truth = readGroundTruth(truthPath);
  const acked = truth.filter((t) => t.status === 'acked');
  let keys: string[] = [];
  await waitUntil(
    async () => {
      keys = readingKeys(await readTopic(testKafka(), topic));
      const have = countBy(keys);
      return acked.every((t) => have.has(`${t.deviceId}@${t.ts}`));
    },
    60_000,
    'every acknowledged reading in Kafka',
  ).catch(() => undefined);
  const have = countBy(keys);
  const missing = acked.filter((t) => !have.has(`${t.deviceId}@${t.ts}`));
  expect(missing.map((m) => `${m.deviceId}#${m.seq}`)).toEqual([]);
  const seen = new Set<string>();
  const firstOrder = new Map<string, number[]>();
  for (const k of keys) {
    if (seen.has(k)) continue;
    seen.add(k);
    const [device, ts] = k.split('@') as [string, string];
    firstOrder.set(device, [...(firstOrder.get(device) ?? []), Number(ts)]);
  }
  for (const [device, tss] of firstOrder) expect(tss, device).toEqual([...tss].sort((a, b) => a - b));
  console.info(`[outage] ${topic}: sent ${truth.length}, acked ${acked.length}, records in Kafka ${keys.length}, duplicates ${keys.length - seen.size}`);
  return { acked: acked.length, records: keys.length, duplicates: keys.length - seen.size };
}

describe('gateway outages', () => {
  afterAll(leaveKafkaRunning);

  it('keeps acknowledging while Kafka is stopped, then delivers everything in per-device order', async () => {
    expect(kafkaPid(), 'this test stops the Kafka that `npm run services -- up` started').toBeDefined();
    const gw = await startTestGateway({ BUS_SEND_TIMEOUT_MS: '2000' });
    const run = runSimulation(simulation(gw.url, gw.dataDir, gw.registryPath, { count: 300 }));
    await sleep(3000);
    await stopKafka();
    await sleep(4000);
    expect(gw.gateway.forwarder.direct).toBe(false);
    expect(gw.gateway.spool.depthRecords).toBeGreaterThan(0);
    await startKafka();
    await waitKafkaReady();
    const summary = await run;
    expect(summary).toMatchObject({ sent: 1800, acked: 1800, refused: 0, unacked: 0 });
    await waitUntil(() => gw.gateway.forwarder.direct && gw.gateway.spool.isEmpty, 60_000, 'spool replayed');
    const result = await expectAckedInKafka(gw.topic, summary.groundTruthPath);
    expect(result.acked).toBe(1800);
    await gw.close();
  });

  it('loses no acknowledged reading when the gateway is killed with SIGKILL mid-stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-kill-'));
    const topic = unique('raw-kill');
    await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 1 }]);
    const port = await freePort();
    const env = { DATA_DIR: dir, TOPIC_RAW: topic, MQTT_PORT: String(port), GATEWAY_ID: 'gw-kill' };
    let gw = await spawnGateway(env);
    const run = runSimulation(simulation(`mqtt://127.0.0.1:${port}`, dir, join(dir, 'devices.json')));
    await sleep(3000);
    gw.child.kill('SIGKILL');
    await sleep(1000);
    gw = await spawnGateway(env);
    const summary = await run;
    expect(summary.acked).toBeGreaterThan(0);
    const result = await expectAckedInKafka(topic, summary.groundTruthPath);
    expect(result.acked).toBe(summary.readingsAcked);
    gw.child.kill('SIGTERM');
  });

  it('replays the spool after a SIGKILL while Kafka was unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-spool-kill-'));
    const topic = unique('raw-spool');
    await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 1 }]);
    const port = await freePort();
    const env = { DATA_DIR: dir, TOPIC_RAW: topic, MQTT_PORT: String(port), GATEWAY_ID: 'gw-spool' };
    // A gateway whose Kafka is unreachable: everything it acknowledges is in its spool only.
    const spooling = await spawnGateway({ ...env, KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, BUS_SEND_TIMEOUT_MS: '500' }, { ready: 'gateway listening' });
    const summary = await runSimulation(simulation(`mqtt://127.0.0.1:${port}`, dir, join(dir, 'devices.json'), { count: 50 }));
    expect(summary).toMatchObject({ sent: 300, acked: 300, unacked: 0 });
    expect(await readTopic(testKafka(), topic)).toEqual([]);
    spooling.child.kill('SIGKILL');
    const gw = await spawnGateway(env);
    const result = await expectAckedInKafka(topic, summary.groundTruthPath);
    expect(result.acked).toBe(300);
    gw.child.kill('SIGTERM');
  });
});
