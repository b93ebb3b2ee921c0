/**
 * A reconnect storm as the field has it, on the real Kafka: a fleet connected from many loopback
 * addresses and publishing, the gateway (its own process) restarted, every device retrying with
 * backoff and jitter. Every device comes back and is acknowledged again, every acknowledged
 * reading is on the raw topic, and the restarted gateway let them in by its record of logins it
 * had verified (no full scrypt check): what makes a restart among thousands of devices cheap.
 * How fast, for 5,000 devices on both engines, is the benchmark's to say (`npm run bench:storm`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSimulation, simulationDefaults } from '../../simulators/runner.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { spawnGateway, waitUntil } from '../support/gateway.ts';
import { killedAfterAll } from '../support/spawn.ts';
import { countBy, readGroundTruth, readingKeys } from '../support/ground-truth.ts';
import { readTopic } from '../support/kafka-read.ts';
import { freePort, testKafka, unique } from '../support/services.ts';

const DEVICES = 300;

describe('a reconnect storm after a gateway restart', () => {
  const children = killedAfterAll();

  it('brings every device back, loses no acknowledged reading, and checks no secret in full again', async () => {
    const id = unique('storm');
    const dataDir = mkdtempSync(join(tmpdir(), 'storm-'));
    const topic = `${id}.raw`;
    await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 0 }]);
    const env = { TOPIC_RAW: topic, TOPIC_DEADLETTER: `${id}.deadletter`, DATA_DIR: dataDir, DEVICE_REGISTRY: join(dataDir, 'devices.json'), MQTT_PORT: String(await freePort()), GATEWAY_ID: `${id}-gw`, LOG_LEVEL: 'info' };
    const start = async () => {
      const gw = await spawnGateway(env);
      children.push(gw.child);
      return gw;
    };
    let gw = await start();

    const connects = new Map<string, number>();
    const acks = new Map<string, number>();
    const abort = new AbortController();
    const run = runSimulation({
      ...simulationDefaults(),
      mqttUrl: `mqtt://127.0.0.1:${env.MQTT_PORT}`,
      devices: DEVICES,
      rate: 1,
      durationMs: 600_000,
      seed: 3,
      registryPath: env.DEVICE_REGISTRY,
      secretsPath: join(dataDir, 'sim-secrets.json'),
      groundTruthPath: join(dataDir, 'truth.jsonl'),
      connectRetryMs: 120_000,
      localAddresses: Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`),
      signal: abort.signal,
      onDeviceEvent: (e) => (e.event === 'connect' ? connects : e.event === 'ack' ? acks : undefined)?.set(e.deviceId, e.at),
    });
    await waitUntil(() => acks.size === DEVICES, 120_000, 'every device connected and acknowledged');
    // The record of verified logins is written within 5 s.
    await new Promise((r) => setTimeout(r, 6000));

    const stoppedAt = Date.now();
    const exited = new Promise((r) => gw.child.once('exit', r));
    gw.child.kill('SIGTERM');
    await exited;
    gw = await start();
    const back = () => [...acks].filter(([d, at]) => at > stoppedAt && (connects.get(d) ?? 0) > stoppedAt).length;
    await waitUntil(() => back() === DEVICES, 180_000, 'every device back and acknowledged after the restart').catch(() => undefined);
    expect(back()).toBe(DEVICES);
    const metrics = await (await fetch(`http://127.0.0.1:${/"opsPort":(\d+)/.exec(gw.log())![1]}/metrics`)).text();
    abort.abort();
    const summary = await run;

    // Every acknowledged reading is on the raw topic.
    const onTopic = countBy(readingKeys(await readTopic(testKafka(), topic)));
    const acked = readGroundTruth(summary.groundTruthPath).filter((l) => l.status === 'acked');
    const missing = acked.filter((l) => !onTopic.has(`${l.deviceId}@${l.ts}`));
    expect(missing.length, 'acknowledged readings missing from the raw topic').toBe(0);
    // The restarted gateway let every device in by its record, none by a full scrypt check.
    const checks = (by: string) => Number(new RegExp(`^gateway_secret_checks_total\\{by="${by}"[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    expect(checks('verified_before')).toBe(DEVICES);
    expect(checks('full')).toBe(0);
    console.info(`[reconnect storm] ${DEVICES} devices from 10 addresses all back after the restart, ${acked.length} acknowledged readings all on the topic; ${DEVICES} let in by the gateway's record of verified logins, 0 full checks`);
  }, 420_000);
});
