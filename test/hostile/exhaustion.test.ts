/**
 * No one without credentials can stop the product or fill its disk. `npm start` and the gateway
 * on Kafka each run with an open-file limit of 1,024 (which they cannot raise) while an attacker
 * holds 1,500 idle TCP connections from 20 loopback addresses and 200 HTTP ingest requests whose
 * bodies trickle in a byte every 2 s — together far beyond the limit — and a genuine device keeps
 * publishing: every one of its readings is acknowledged and stored, and the process stays up. Then
 * unauthenticated refusals at full speed: the log grows by a few kilobytes a second, at most.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { sleep } from '../../shared/time.ts';
import { holdIdleSockets, loopbackAddresses, mqttLogin, post, slowBodies, type Attack } from '../support/attack.ts';
import { spawnGateway, waitUntil } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startNode, type StartedNode } from '../support/npm-start.ts';
import { testKafka, unique } from '../support/services.ts';

const FILE_LIMIT = 1024;
/** Short deadlines so the test sees them act; the defaults are 10 s (login) and 30 s (a request). */
const LIMITS = { LOGIN_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '8000', HTTP_HEADERS_TIMEOUT_MS: '5000' };

/** The attack of the header, for `seconds`; what it achieved. */
function attack(mqttPort: number, ingestPort: number, seconds: number): { idle: Attack; slow: Attack } {
  return {
    idle: holdIdleSockets(mqttPort, 1500, loopbackAddresses(20, 10), seconds * 1000),
    slow: slowBodies(ingestPort, '/ingest/v1/kalamata/energy/kal-nobody', 200, loopbackAddresses(5, 40), seconds * 1000),
  };
}

/** A genuine device publishing one reading every 250 ms during the attack (QoS 1, reconnecting as devices do): the timestamps acknowledged. */
async function genuineDevice(url: string, id: string, secret: string, topic: string, seconds: number, t0: number): Promise<{ acked: number[]; reconnects: number }> {
  const c = await mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 500, connectTimeout: 10_000 });
  let reconnects = 0;
  c.on('reconnect', () => reconnects++);
  const acked: number[] = [];
  const until = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < until; i++) {
    const ts = t0 + i * 60_000;
    await c.publishAsync(topic, JSON.stringify({ ts, energy_wh: 1000 + i }), { qos: 1 });
    acked.push(ts);
    await sleep(250);
  }
  await c.endAsync();
  return { acked, reconnects };
}

describe('descriptor exhaustion and log floods', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('npm start at a 1,024-file limit: 1,500 idle sockets and 200 slow bodies leave it up and the genuine device publishing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-start-'));
    const node: StartedNode = await startNode(dir, LIMITS, { fileLimit: FILE_LIMIT });
    cleanups.push(() => node.node.child.kill('SIGTERM'));
    const a = attack(node.mqttPort, node.ingestPort, 40);
    await sleep(5000); // the attack in full swing
    const t0 = Date.UTC(2026, 11, 1);
    const { acked, reconnects } = await genuineDevice(node.mqttUrl, node.device.id, node.device.secret, node.device.topic, 20, t0);
    const idle = a.idle.stats();
    const slow = a.slow.stats();
    a.idle.stop();
    a.slow.stop();
    expect(node.node.child.exitCode).toBeNull();

    const store = new SqliteStore(join(dir, 'store.db'));
    const stored = () => new Set(store.points('energy').filter((p) => p.tags.device === node.device.id).map((p) => p.ts));
    await waitUntil(() => acked.every((t) => stored().has(t)), 60_000, 'the genuine readings stored').catch(() => undefined);
    const missing = acked.filter((t) => !stored().has(t));
    await store.close();
    console.log(`[fd exhaustion, npm start] attacker opened ${idle.opened} idle sockets (${idle.closedByServer} closed by the server) and ${slow.opened} slow requests (${slow.closedByServer} closed); genuine device: ${acked.length} readings acknowledged, ${acked.length - missing.length} stored, ${reconnects} reconnects; process up: ${node.node.child.exitCode === null}`);
    expect(acked.length).toBeGreaterThanOrEqual(40);
    expect(missing).toEqual([]);
    expect(slow.closedByServer).toBeGreaterThanOrEqual(200); // every slow body timed out at least once
    expect(node.node.log()).not.toMatch(/EMFILE|stopped:/);
  }, 180_000);

  it('the gateway on Kafka at a 1,024-file limit: the same attack leaves it up and the genuine device publishing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-gw-'));
    const topic = unique('raw-fd');
    await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 1 }]);
    const registry = new DeviceRegistry(join(dir, 'devices.json'));
    const secret = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-fd-genuine' });
    const gw = await spawnGateway({ DATA_DIR: dir, TOPIC_RAW: topic, MQTT_PORT: '0', GATEWAY_ID: unique('gw-fd'), LOG_LEVEL: 'info', ...LIMITS }, { fileLimit: FILE_LIMIT });
    cleanups.push(() => gw.child.kill('SIGTERM'));
    const a = attack(gw.port, gw.httpIngestPort, 40);
    await sleep(5000);
    const t0 = Date.UTC(2026, 11, 2);
    const { acked, reconnects } = await genuineDevice(`mqtt://127.0.0.1:${gw.port}`, 'kal-fd-genuine', secret, 'city/kalamata/energy/kal-fd-genuine/telemetry', 20, t0);
    const idle = a.idle.stats();
    const slow = a.slow.stats();
    a.idle.stop();
    a.slow.stop();
    expect(gw.child.exitCode).toBeNull();
    let inKafka = new Set<number>();
    await waitUntil(async () => (inKafka = new Set((await readTopic(testKafka(), topic)).map((r) => (JSON.parse((JSON.parse(r.value) as { payload: string }).payload) as { ts: number }).ts))).size >= acked.length, 30_000, 'the genuine readings in Kafka').catch(() => undefined);
    console.log(`[fd exhaustion, gateway on Kafka] attacker opened ${idle.opened} idle sockets (${idle.closedByServer} closed by the server) and ${slow.opened} slow requests (${slow.closedByServer} closed); genuine device: ${acked.length} acknowledged, ${acked.filter((t) => inKafka.has(t)).length} in Kafka, ${reconnects} reconnects`);
    expect(acked.length).toBeGreaterThanOrEqual(40);
    expect(acked.filter((t) => !inKafka.has(t))).toEqual([]);
    expect(gw.log()).not.toMatch(/EMFILE/);
  }, 180_000);

  it('unauthenticated refusals at full speed grow the logs by at most 100 MB an hour', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logflood-'));
    const node = await startNode(dir);
    cleanups.push(() => node.node.child.kill('SIGTERM'));
    const logs = join(dir, 'logs');
    const logBytes = () => readdirSync(logs).reduce((s, f) => s + statSync(join(logs, f)).size, 0);
    await sleep(1000);
    const before = logBytes();
    const seconds = 20;
    const until = Date.now() + seconds * 1000;
    let refusals = 0;
    const addresses = loopbackAddresses(50, 60);
    // 32 senders at once, each from its own address in turn: wrong MQTT secrets and wrong HTTP bearers, as fast as answered.
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; Date.now() < until; i++) {
          const from = addresses[(w + i) % addresses.length]!;
          if (i % 2 === 0) await mqttLogin(node.mqttPort, { clientId: `x${w}-${i}`, username: node.device.id, password: `wrong-${i}`, localAddress: from, timeoutMs: 5000 });
          else await post(node.ingestPort, `/ingest/v1/kalamata/energy/${node.device.id}`, '{}', { authorization: `Bearer wrong-${i}` }, from).catch(() => undefined);
          refusals++;
        }
      }),
    );
    await sleep(1500); // a last summary line, if any
    const grown = logBytes() - before;
    const perHour = (grown / seconds) * 3600;
    console.log(`[log flood] ${refusals} refusals in ${seconds} s (${Math.round(refusals / seconds)}/s): the logs grew ${(grown / 1024).toFixed(0)} kB, ${(perHour / 1e6).toFixed(1)} MB an hour at this pace (rotation bounds them at 80 MiB whatever the pace)`);
    expect(refusals).toBeGreaterThan(1000);
    expect(perHour).toBeLessThan(100e6);
    expect(node.node.child.exitCode).toBeNull();
  }, 120_000);

  it('writes a fatal error into the log file before npm start exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fatal-'));
    const node = await startNode(dir, { NODE_OPTIONS: '--import ./test/support/uncaught-fault.ts', SMARTCITY_TEST_UNCAUGHT_AFTER_MS: '3000' });
    const code = await new Promise<number | null>((resolve) => node.node.child.once('exit', resolve));
    const log = readFileSync(join(dir, 'logs', 'pipeline.log'), 'utf8');
    const line = log.split('\n').find((l) => l.includes('injected fault'));
    console.log(`[fatal] npm start exited with ${code}; in pipeline.log: ${line?.slice(0, 160)}`);
    expect(code).toBe(1);
    expect(JSON.parse(line!)).toMatchObject({ level: 60, msg: 'uncaught exception' });
  }, 120_000);
});
