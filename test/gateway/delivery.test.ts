/**
 * The gateway's delivery promise against a real Kafka: a QoS 1 PUBACK only after Kafka has the
 * record, and a normal run delivers every reading exactly once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { rawEnvelopeSchema } from '../../shared/schemas/envelope.ts';
import { defaultFaults } from '../../simulators/faults.ts';
import { runSimulation, simulationDefaults } from '../../simulators/runner.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { countBy, readGroundTruth, readingKeys } from '../support/ground-truth.ts';
import { servicesEnv, testKafka } from '../support/services.ts';

const run = promisify(execFile);

describe('gateway → Kafka delivery', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // LogAppendTime: the broker stamps each record when it appends it, so the test can compare
    // that moment with the moment the device saw its PUBACK.
    gw = await startTestGateway({}, { 'message.timestamp.type': 'LogAppendTime' });
  });
  afterAll(() => gw.close());

  it('sends the PUBACK of a QoS 1 reading only after Kafka appended it', async () => {
    const registry = new DeviceRegistry(gw.registryPath);
    const secret = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-puback-1' });
    const client = await mqtt.connectAsync(gw.url, { clientId: 'kal-puback-1', username: 'kal-puback-1', password: secret });
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    const sum = async () => (await admin.fetchTopicOffsets(gw.topic)).reduce((s, p) => s + Number(p.high), 0);
    for (let i = 0; i < 5; i++) {
      const before = await sum();
      const payload = JSON.stringify({ ts: 1764000000000 + i, energy_wh: 1000 + i });
      await client.publishAsync('city/kalamata/energy/kal-puback-1/telemetry', payload, { qos: 1 });
      const pubackAt = Date.now();
      // At the moment of the PUBACK the record is already in the log …
      expect(await sum()).toBe(before + 1);
      const records = await readTopic(kafka, gw.topic);
      const mine = records.find((r) => rawEnvelopeSchema.parse(JSON.parse(r.value)).payload === payload)!;
      expect(mine.key).toBe('kal-puback-1');
      // … and the broker appended it no later than the PUBACK came back.
      expect(mine.timestamp).toBeLessThanOrEqual(pubackAt);
    }
    await admin.disconnect();
    await client.endAsync();
  });

  it('delivers N readings from M simulated devices exactly once each', async () => {
    const summary = await runSimulation({
      ...simulationDefaults(),
      mqttUrl: gw.url,
      devices: 12,
      rate: 50,
      count: 40,
      seed: 42,
      simStart: Date.UTC(2026, 10, 20),
      faults: defaultFaults(),
      registryPath: gw.registryPath,
      secretsPath: join(gw.dataDir, 'sim-secrets.json'),
      groundTruthPath: join(gw.dataDir, 'truth.jsonl'),
    });
    expect(summary).toMatchObject({ sent: 480, acked: 480, refused: 0, unacked: 0, devicesRefused: [] });
    const truth = readGroundTruth(summary.groundTruthPath);
    expect(truth).toHaveLength(480);
    const inKafka = countBy(readingKeys(await readTopic(testKafka(), gw.topic)).filter((k) => !k.startsWith('kal-puback')));
    expect(inKafka.size).toBe(480);
    for (const t of truth) expect(inKafka.get(`${t.deviceId}@${t.ts}`), `${t.deviceId} seq ${t.seq}`).toBe(1);
  });

  it('lands a mosquitto_pub reading in Kafka where kcat reads it (independent clients)', async () => {
    const registry = new DeviceRegistry(gw.registryPath);
    const secret = await registry.add({ municipality: 'orestiada', kind: 'parking', deviceId: 'ore-bay-indep' });
    const payload = JSON.stringify({ ts: '2026-11-25T10:00:00Z', occupied: true });
    // Asynchronous: the gateway runs in this process and must keep serving while the tools run.
    await run('mosquitto_pub', ['-p', String(gw.gateway.mqttPort), '-h', '127.0.0.1', '-i', 'ore-bay-indep', '-u', 'ore-bay-indep', '-P', secret, '-q', '1', '-t', 'city/orestiada/parking/ore-bay-indep/telemetry', '-m', payload]);
    const { stdout: out } = await run('kcat', ['-b', servicesEnv().KAFKA_BROKERS!, '-C', '-t', gw.topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n']);
    const line = out.split('\n').find((l) => l.startsWith('ore-bay-indep\t'));
    expect(line).toBeDefined();
    const env = rawEnvelopeSchema.parse(JSON.parse(line!.split('\t')[1]!));
    expect(env).toMatchObject({ municipality: 'orestiada', kind: 'parking', deviceId: 'ore-bay-indep', payload, payloadEncoding: 'utf8' });
  });
});
