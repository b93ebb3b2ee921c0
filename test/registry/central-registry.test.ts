/**
 * The central device registry across machines, on the real Kafka: the devices CLI, with the
 * environment `npm run services -- status` prints, changes one registry (a compacted topic); a
 * gateway and a normaliser started as their own processes with that environment — each with a
 * data directory of its own, each as its own least-privileged Kafka principal — read it: a device
 * added is let in and its readings are enriched with its attributes, a device revoked is refused
 * within 5 s, a device added while the gateway runs is let in within 5 s, and a gateway restarted
 * with Kafka out of reach still lets its devices in, from its own copy.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { secureClientEnv } from '../../engines/kafka.ts';
import { spawnGateway, tryLogin, waitUntil } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { engineEnv, grantTestAcls, servicesEnv, testKafka, unique } from '../support/services.ts';
import { killedAfterAll, spawnService } from '../support/spawn.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';

const run = promisify(execFile);


describe('the central device registry', () => {
  const children = killedAfterAll();

  it('is changed by the devices CLI with the services environment and read by every service, wherever its data directory', async () => {
    const id = unique('reg');
    const topic = `${id}.devices`;
    // The operator's environment, as `npm run services -- status` prints it (a registry topic of this test's own).
    const operator = { ...process.env, ...servicesEnv(), DEVICE_REGISTRY_TOPIC: topic, DATA_DIR: mkdtempSync(join(tmpdir(), 'operator-')), LOG_LEVEL: 'warn' };
    expect(servicesEnv().DEVICE_REGISTRY_TOPIC).toBe('devices.registry');
    const devices = async (...args: string[]) => (await run(process.execPath, ['shared/registry/cli.ts', ...args], { env: operator, timeout: 60_000 })).stdout.trim().split('\n');
    const secretOf = async (device: string, ...attrs: string[]) => (await devices('add', '--municipality', 'kalamata', '--kind', 'parking', '--id', device, ...attrs.flatMap((a) => ['--attr', a]))).at(-1)!;

    const first = await secretOf('kal-bay-c1', 'lot=harbour', 'district=paralia');
    expect((await devices('list')).join('\n')).toMatch(/kal-bay-c1\tkalamata\tparking\tactive/);

    // A gateway and a normaliser elsewhere: other data directories, their own Kafka logins, the same environment.
    const services = { ...engineEnv(), DEVICE_REGISTRY_TOPIC: topic, TOPIC_RAW: `${id}.raw`, TOPIC_NORMALIZED: `${id}.normalized`, TOPIC_DEADLETTER: `${id}.deadletter`, BUS_PARTITIONS: '1' };
    await ensureTopics(testKafka(), [`${id}.raw`, `${id}.normalized`, `${id}.deadletter`].map((t) => ({ topic: t, partitions: 1, replicationFactor: 0 })));
    await grantTestAcls({ ...services, NORMALIZER_GROUP: `${id}-normalizer` });
    const gwDir = mkdtempSync(join(tmpdir(), 'edge-gw-'));
    const gw = await spawnGateway({ ...services, ...secureClientEnv('gateway'), DATA_DIR: gwDir, MQTT_PORT: '0', GATEWAY_ID: `${id}-gw` });
    children.push(gw.child);
    expect(gw.log()).toContain(`central device registry (Kafka topic ${topic}`);
    const normalizer = await spawnService('normalizer', { ...services, ...secureClientEnv('normalizer'), DATA_DIR: mkdtempSync(join(tmpdir(), 'edge-norm-')), BUS_GROUP_ID: `${id}-normalizer` }, (l) => l.includes('normalizer running'));
    children.push(normalizer.child);

    expect(await tryLogin(gw.port, 'kal-bay-c1', first)).toBe(0);
    const bay = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { clientId: 'kal-bay-c1', username: 'kal-bay-c1', password: first, reconnectPeriod: 0 });
    await bay.publishAsync('city/kalamata/parking/kal-bay-c1/telemetry', JSON.stringify({ ts: Date.now(), occupied: true }), { qos: 1 });
    let normalized: { attrs: Record<string, string> }[] = [];
    await waitUntil(async () => (normalized = (await readTopic(testKafka(), `${id}.normalized`)).map((r) => JSON.parse(r.value) as { attrs: Record<string, string> })).length > 0, 30_000, 'the reading normalised');
    expect(normalized[0]!.attrs).toEqual({ lot: 'harbour', district: 'paralia' });

    // Revoked centrally: the connected device is cut off and a new login refused, within 5 s.
    const closed = new Promise<number>((resolve) => bay.once('close', () => resolve(Date.now())));
    const revokedAt = Date.now();
    await devices('revoke', '--id', 'kal-bay-c1');
    const refusedIn = await (async () => {
      while ((await tryLogin(gw.port, 'kal-bay-c1', first)) === 0) if (Date.now() - revokedAt > 10_000) return Infinity;
      return Date.now() - revokedAt;
    })();
    const cutIn = (await closed) - revokedAt;
    expect(refusedIn).toBeLessThan(5000);
    expect(cutIn).toBeLessThan(5000);

    // Added while the gateway runs: let in within 5 s.
    const second = await secretOf('kal-bay-c2');
    const addedAt = Date.now();
    await waitUntil(async () => (await tryLogin(gw.port, 'kal-bay-c2', second)) === 0, 5000, 'the new device let in');
    const addedIn = Date.now() - addedAt;

    // Restarted with Kafka out of reach: its own copy still knows who is in and who is out.
    gw.child.kill('SIGKILL');
    const cut = await spawnGateway({ ...services, ...secureClientEnv('gateway'), DATA_DIR: gwDir, MQTT_PORT: '0', GATEWAY_ID: `${id}-gw`, KAFKA_BROKERS: '127.0.0.1:1' }, { ready: 'gateway running' });
    children.push(cut.child);
    expect(cut.log()).toContain("going on with this process's copy");
    expect(await tryLogin(cut.port, 'kal-bay-c2', second)).toBe(0);
    expect(await tryLogin(cut.port, 'kal-bay-c1', first)).not.toBe(0);
    console.info(`[central registry] revoked: refused in ${refusedIn} ms, connection cut in ${cutIn} ms; added: let in within ${addedIn} ms; restarted without Kafka: its own copy lets kal-bay-c2 in and keeps kal-bay-c1 out`);
  }, 180_000);
});
