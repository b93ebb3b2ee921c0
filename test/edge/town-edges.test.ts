/**
 * Town edges and one centre, on the real Kafka and InfluxDB, every party its own process and its
 * own Kafka login: two edge gateways (Kalamata, Mytilene), each reaching the centre only through a
 * TCP proxy the test controls (its WAN link), and the centre's edge intake, normaliser, writer and
 * aggregator. The devices registry is the central one (a compacted topic), changed with the
 * devices CLI.
 *
 * - The WAN fails: links cut for 2 minutes while devices publish, the Kalamata edge SIGKILLed
 *   during the cut and restarted with the link still down (it authenticates its devices from its
 *   own copy), a device added centrally during the cut works at that edge within 5 s of the link's
 *   return, the links flap (5 s up / 5 s down) for a minute, then carry 300 ms of latency. Every
 *   acknowledged reading is stored exactly once, each device's order is kept on the raw topic, and
 *   the 15-minute aggregates equal the recomputation from what the devices sent.
 * - The centre's view of its edges (from the store, as the operators' route reads it) shows both
 *   cut off since the cut, and connected again after it.
 * - A device revoked centrally is refused by its (connected) edge within 5 s.
 * - An edge's login used to send another municipality's readings: nothing lands in that
 *   municipality's data; the refusal is a dead letter, a metric per edge and a log line. Kafka
 *   itself refuses the edge any other topic.
 * - With its spool full, an edge stops acknowledging (no PUBACK; HTTP ingest answers 503); after the link
 *   returns, everything acknowledged arrives.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionStore, storeEnvFor } from '../../engines/influxdb.ts';
import { provisionLocalEdge, secureClientEnv } from '../../engines/kafka.ts';
import { parseConfig } from '../../shared/config.ts';
import { edgeTopic } from '../../shared/edge/topics.ts';
import { EDGE_STALE_AFTER_MS, edgeViews } from '../../shared/edge/view.ts';
import { influxEnv } from '../../shared/influx/settings.ts';
import { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { registryTopicSpec } from '../../shared/kafka/registry-topic.ts';
import { aggregatesSettle } from '../support/compare.ts';
import { energySeries, type EnergyReadingOut } from '../support/energy-series.ts';
import { tryLogin, waitUntil } from '../support/gateway.ts';
import { countBy, readingKeys } from '../support/ground-truth.ts';
import { readPoints } from '../support/influx-read.ts';
import { readTopic } from '../support/kafka-read.ts';
import { deliveredSeries, expectedEnergy } from '../support/recompute.ts';
import { engineEnv, freePort, grantTestAcls, testKafka, unique } from '../support/services.ts';
import { killedAfterAll, spawnService, type Spawned } from '../support/spawn.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import type { GroundTruthLine } from '../../simulators/runner.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIN = 60_000;

const id = unique('edges');
const topics = { TOPIC_RAW: `${id}.raw`, TOPIC_NORMALIZED: `${id}.normalized`, TOPIC_DEADLETTER: `${id}.deadletter`, DEVICE_REGISTRY_TOPIC: `${id}.devices` };
const groups = { NORMALIZER_GROUP: `${id}-normalizer`, WRITER_GROUP: `${id}-writer`, AGGREGATOR_GROUP: `${id}-aggregator`, EDGE_INTAKE_GROUP: `${id}-edge-intake` };
const towns = ['kalamata', 'mytilene'] as const;
type Town = (typeof towns)[number];
const edgeIdOf = (town: Town) => `${id}-${town.slice(0, 3)}`;

/** What the operator's devices CLI sees: the central registry of this test. */
const operatorEnv = () => ({ ...process.env, ...engineEnv(), ...topics, DATA_DIR: mkdtempSync(join(tmpdir(), 'edges-operator-')), LOG_LEVEL: 'warn' });
let operator: NodeJS.ProcessEnv;
const devicesCli = async (...args: string[]) => (await run(process.execPath, ['shared/registry/cli.ts', ...args], { env: operator, timeout: 60_000 })).stdout.trim().split('\n');
const addDevice = async (town: Town, device: string) => (await devicesCli('add', '--municipality', town, '--kind', 'energy', '--id', device)).at(-1)!;


interface Edge {
  town: Town;
  edgeId: string;
  proxy: TcpProxy;
  mqttPort: number;
  env: Record<string, string>;
  dataDir: string;
  proc?: Spawned;
}

/**
 * A device as in the field: publishes its readings in order at QoS 1, each until it is
 * acknowledged; a refused or dropped connection is retried after a pause (the edge may be
 * restarting). Resolves with how many publishes were not acknowledged (then retried).
 */
async function publishUntilAcked(port: () => number, device: { id: string; secret: string; municipality: string }, readings: EnergyReadingOut[], paceMs: number, stop: () => boolean): Promise<{ sent: number; retries: number }> {
  let client: mqtt.MqttClient | undefined;
  let retries = 0;
  let i = 0;
  while (i < readings.length && !stop()) {
    try {
      client ??= await mqtt.connectAsync(`mqtt://127.0.0.1:${port()}`, { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0, connectTimeout: 3000 });
      await Promise.race([
        client.publishAsync(`city/${device.municipality}/energy/${device.id}/telemetry`, JSON.stringify(readings[i]), { qos: 1 }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no PUBACK within 15 s')), 15_000)),
      ]);
      i++;
      await sleep(paceMs);
    } catch {
      retries++;
      client?.end(true);
      client = undefined;
      await sleep(300);
    }
  }
  client?.end(true);
  return { sent: i, retries };
}

describe('town edges over a failing WAN', () => {
  const children = killedAfterAll();
  const edges = new Map<Town, Edge>();
  let store: InfluxTelemetryStore;
  let intake: Spawned;

  const spawnEdge = async (e: Edge, ready = 'gateway running') => {
    e.proc = await spawnService('gateway', { ...e.env, DATA_DIR: e.dataDir, MQTT_PORT: String(e.mqttPort), MQTT_HOST: '127.0.0.1' }, (l) => l.includes(ready));
    children.push(e.proc.child);
    return e.proc;
  };

  beforeAll(async () => {
    operator = operatorEnv();
    const kafka = testKafka();
    await ensureTopics(kafka, [...[topics.TOPIC_RAW, topics.TOPIC_NORMALIZED, topics.TOPIC_DEADLETTER].map((topic) => ({ topic, partitions: 3 })), registryTopicSpec(topics.DEVICE_REGISTRY_TOPIC)]);
    await grantTestAcls({ ...topics, ...groups });
    const access = await provisionStore(id.replace(/-/g, '_'));
    store = new InfluxTelemetryStore(parseConfig(influxEnv, { ...engineEnv(), ...storeEnvFor(access, 'kpi-api'), INFLUX_TOKEN: access.operatorToken }));
    const scopes: Record<string, string[]> = {};
    for (const town of towns) {
      const edgeId = edgeIdOf(town);
      // The edge's login, topic and rights, as `npm run services -- edge-login` makes them.
      const provisioned = await provisionLocalEdge(edgeId, [town], { ...process.env, ...topics, BUS_PARTITIONS: '3' });
      scopes[edgeId] = [town];
      const advertised = provisioned.env.KAFKA_BROKERS!;
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(advertised.split(':')[1]) });
      edges.set(town, {
        town,
        edgeId,
        proxy,
        mqttPort: await freePort(),
        dataDir: mkdtempSync(join(tmpdir(), `edge-${town}-`)),
        env: {
          ...topics,
          ...provisioned.env,
          // The WAN: the centre's broker reached only through this edge's proxy.
          KAFKA_ADDRESS_MAP: JSON.stringify({ [advertised]: `127.0.0.1:${proxy.port}` }),
          BUS_PARTITIONS: '3',
          BUS_SEND_TIMEOUT_MS: '2000',
          EDGE_STATUS_INTERVAL_MS: '1000',
          SPOOL_DRAIN_RATE: '400',
          LOG_LEVEL: 'info',
        },
      });
    }
    const base = { ...engineEnv(), ...topics, BUS_PARTITIONS: '3', IDLE_CLOSE_MS: '2000', BUS_SESSION_TIMEOUT_MS: '10000', LOG_LEVEL: 'info' };
    const worker = (name: string, group: string, extra: Record<string, string> = {}) =>
      spawnService(name, { ...base, ...secureClientEnv(name), ...storeEnvFor(access, 'kpi-api'), INFLUX_TOKEN: access.tokens[name] ?? '', BUS_GROUP_ID: group, DATA_DIR: mkdtempSync(join(tmpdir(), `central-${name}-`)), ...extra }, (l) => l.includes(`${name} running`));
    intake = await worker('edge-intake', groups.EDGE_INTAKE_GROUP, { EDGE_SCOPES: JSON.stringify(scopes) });
    const normalizer = await worker('normalizer', groups.NORMALIZER_GROUP);
    const writer = await worker('writer', groups.WRITER_GROUP);
    const aggregator = await worker('aggregator', groups.AGGREGATOR_GROUP, { WRITER_GROUP_ID: groups.WRITER_GROUP });
    // The monitor stores the intake's view of the edges with every pipeline metric (the operators' route and panel read it there).
    const monitor = await spawnService('monitor', { ...base, ...storeEnvFor(access, 'kpi-api'), INFLUX_TOKEN: access.tokens.monitor ?? '', DATA_DIR: mkdtempSync(join(tmpdir(), 'central-monitor-')), MONITOR_TARGETS: `edge-intake=http://127.0.0.1:${opsPort(intake)}/metrics`, MONITOR_INTERVAL_MS: '1000' }, (l) => l.includes('monitor running'));
    children.push(intake.child, normalizer.child, writer.child, aggregator.child, monitor.child);
  }, 240_000);

  afterAll(async () => {
    for (const e of edges.values()) await e.proxy.close();
  });

  it('stores every acknowledged reading exactly once, in order, with exact aggregates, through cuts, a kill, flapping and latency', async () => {
    const devices: { town: Town; id: string; secret: string }[] = [];
    for (const town of towns) for (const n of [1, 2]) devices.push({ town, id: `${edgeIdOf(town)}-m${n}`, secret: await addDevice(town, `${edgeIdOf(town)}-m${n}`) });
    for (const e of edges.values()) await spawnEdge(e, 'forwarding directly');
    const kal = edges.get('kalamata')!;
    const myt = edges.get('mytilene')!;
    // Each edge holds its own town's devices only.
    expect(await tryLogin(kal.mqttPort, devices[2]!.id, devices[2]!.secret)).not.toBe(0);

    const from = Date.UTC(2026, 11, 1, 0, 0);
    const series = devices.map((d, i) => ({ d, ...energySeries(d.id, d.town, from, from + 8000 * MIN, i + 1) }));
    let stopAll = false;
    const portOf = (town: Town) => () => edges.get(town)!.mqttPort;
    const publishing = series.map((s) => publishUntilAcked(portOf(s.d.town), { id: s.d.id, secret: s.d.secret, municipality: s.d.town }, s.out, 40, () => stopAll));

    await sleep(10_000);
    // The WAN fails for two minutes; devices go on publishing and their edges acknowledge from the spool.
    for (const e of edges.values()) e.proxy.cut();
    const cutAt = Date.now();
    await sleep(30_000);
    const added = { id: `${kal.edgeId}-m3`, secret: '' };
    added.secret = await addDevice('kalamata', added.id);
    await sleep(20_000);
    // The Kalamata edge dies mid-cut and comes back with the link still down: its own copy of the registry lets its devices in.
    kal.proc!.child.kill('SIGKILL');
    await spawnEdge(kal);
    expect(kal.proc!.log()).toContain("going on with this process's copy");
    expect(await tryLogin(kal.mqttPort, devices[0]!.id, devices[0]!.secret)).toBe(0);
    expect(await tryLogin(kal.mqttPort, added.id, added.secret), 'added centrally while the link is down: not known at the edge yet').not.toBe(0);
    await sleep(Math.max(0, cutAt + 120_000 - Date.now()));
    const spooledAtReturn = Number(/\ngateway_spool_bytes(?:\{[^}]*\})? (\d+)/.exec(await (await fetch(`http://127.0.0.1:${opsPort(kal.proc!)}/metrics`)).text())?.[1] ?? -1);
    expect(spooledAtReturn, "Kalamata's spool at the link's return").toBeGreaterThan(0);
    // The centre's view (what GET /api/v1/edges answers, from the store): both edges cut off since about the cut.
    const cutView = edgeViews(await store.edgeFigures(cutAt - 3_600_000), Date.now(), EDGE_STALE_AFTER_MS);
    expect(cutView.map((v) => [v.edge, v.connected])).toEqual([kal.edgeId, myt.edgeId].sort().map((e) => [e, false]));
    for (const v of cutView) expect(Math.abs(Date.parse(v.since!) - cutAt), `${v.edge} cut off since the cut`).toBeLessThan(5000);

    // The link returns: the device added meanwhile works at the edge within 5 s.
    for (const e of edges.values()) e.proxy.restore();
    const returnedAt = Date.now();
    await waitUntil(async () => (await tryLogin(kal.mqttPort, added.id, added.secret)) === 0, 5000, 'the device added during the cut let in at the edge');
    const addedIn = Date.now() - returnedAt;

    // A minute of flapping: 5 s up, 5 s down.
    for (let t = 0; t < 6; t++) {
      await sleep(5000);
      for (const e of edges.values()) e.proxy.cut();
      await sleep(5000);
      for (const e of edges.values()) e.proxy.restore();
    }
    // Then a slow link.
    for (const e of edges.values()) e.proxy.latencyMs = 300;
    await sleep(20_000);
    stopAll = true;
    const sent = await Promise.all(publishing);

    // A device revoked centrally is refused by its connected edge within 5 s.
    const revoked = devices[3]!;
    expect(await tryLogin(myt.mqttPort, revoked.id, revoked.secret)).toBe(0);
    const revokedAt = Date.now();
    await devicesCli('revoke', '--id', revoked.id);
    await waitUntil(async () => (await tryLogin(myt.mqttPort, revoked.id, revoked.secret)) !== 0, 5000 - (Date.now() - revokedAt), 'the revoked device refused at its edge');
    const refusedIn = Date.now() - revokedAt;
    for (const e of edges.values()) e.proxy.latencyMs = 0;
    await waitUntil(async () => edgeViews(await store.edgeFigures(cutAt - 3_600_000), Date.now(), EDGE_STALE_AFTER_MS).every((v) => v.connected), 20_000, 'both edges seen connected again');

    // Everything acknowledged is stored exactly once, and the windows equal the recomputation.
    const truth: GroundTruthLine[] = series.flatMap((s, i) => s.truth.slice(0, sent[i]!.sent));
    const perDevice = new Map(series.map((s, i) => [s.d.id, sent[i]!.sent]));
    const rawCounts = async () => {
      const rows = await store.raw.query().collectRows<{ device: string; _value: number }>(`from(bucket: "${store.raw.bucket}") |> range(start: 2000-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "energy" and r._field == "energy_wh") |> group(columns: ["device"]) |> count()`);
      return new Map(rows.map((r) => [r.device, r._value]));
    };
    let stored = new Map<string, number>();
    await waitUntil(async () => ((stored = await rawCounts()), [...perDevice].every(([d, n]) => stored.get(d) === n)), 240_000, 'every acknowledged reading stored').catch(() => undefined);
    expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(perDevice));
    const expected = expectedEnergy(deliveredSeries(truth));
    // Late windows are rewritten as their readings come, and a query can meet a window's point
    // half-written (the window's key there, `energy_kwh` not yet): read until they settle.
    await aggregatesSettle(() => readPoints(store, 'energy_15m'), expected, 'energy_15m', 120_000);

    // Per device, the raw topic carries its readings in the order sent (a repeat after a lost PUBACK aside).
    const raw = await readTopic(testKafka(), topics.TOPIC_RAW);
    const keys = readingKeys(raw);
    for (const s of series) {
      const firsts: number[] = [];
      const seen = new Set<number>();
      for (const k of keys) {
        const [device, ts] = k.split('@');
        if (device !== s.d.id || seen.has(Number(ts))) continue;
        seen.add(Number(ts));
        firsts.push(Number(ts));
      }
      expect(firsts, `${s.d.id}: order on the raw topic`).toEqual([...firsts].sort((a, b) => a - b));
    }
    const repeats = [...countBy(keys).values()].filter((n) => n > 1).length;
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort(intake)}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`edge_intake_edge_last_status_timestamp_seconds\\{edge="${kal.edgeId}"[^}]*\\} [1-9]`));
    console.info(
      `[town edges] ${truth.length} readings acknowledged (${sent.map((x) => x.retries).reduce((a, b) => a + b)} publishes retried), all stored once; ${expected.size} windows equal to the recomputation; ${repeats} readings repeated on the raw topic; Kalamata's spool held ${spooledAtReturn} bytes when the link returned; a device added during the cut let in ${addedIn} ms after the return; a revoked device refused in ${refusedIn} ms`,
    );
  }, 600_000);

  it("refuses another municipality's reading sent with an edge's login: a dead letter, a metric, a log line; Kafka refuses it other topics", async () => {
    const kal = edges.get('kalamata')!;
    const mytDevice = `${edgeIdOf('mytilene')}-m1`;
    const login = new Kafka({
      brokers: kal.env.KAFKA_BROKERS!.split(','),
      ssl: { ca: [readFileSync(kal.env.KAFKA_SSL_CA!, 'utf8')] },
      sasl: { mechanism: 'scram-sha-512', username: kal.env.KAFKA_SASL_USERNAME!, password: kal.env.KAFKA_SASL_PASSWORD! },
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
    const producer = login.producer();
    await producer.connect();
    const forgedTs = Date.UTC(2026, 0, 1, 12, 0);
    const forged = { gatewayId: kal.edgeId, receivedAt: Date.now(), municipality: 'mytilene', kind: 'energy', deviceId: mytDevice, payload: JSON.stringify({ ts: forgedTs, energy_wh: 1 }), payloadEncoding: 'utf8', source: 'mqtt' };
    // On its own topic: passed to the intake, which refuses it.
    await producer.send({ topic: edgeTopic(topics.TOPIC_RAW, kal.edgeId), messages: [{ key: mytDevice, value: JSON.stringify(forged) }] });
    // Anywhere else: Kafka refuses the login.
    const elsewhere = async (topic: string) => producer.send({ topic, messages: [{ key: mytDevice, value: JSON.stringify(forged) }] }).then(() => 'written', (err: Error) => err.message);
    expect(await elsewhere(edgeTopic(topics.TOPIC_RAW, edgeIdOf('mytilene')))).toMatch(/not authorized/i);
    expect(await elsewhere(topics.TOPIC_RAW)).toMatch(/not authorized/i);
    await producer.disconnect();

    let letters: { code: string; reason: string; municipality?: string; deviceId?: string; stage: string }[] = [];
    await waitUntil(async () => (letters = (await readTopic(testKafka(), topics.TOPIC_DEADLETTER)).map((r) => JSON.parse(r.value) as (typeof letters)[number]).filter((l) => l.code === 'edge_scope')).length > 0, 30_000, 'the dead letter');
    expect(letters[0]).toMatchObject({ stage: 'edge-intake', reason: `edge '${kal.edgeId}' may send kalamata's readings, not mytilene's` });
    // Nothing of it is the other town's: not in its dead letters, not in its data.
    expect(letters[0]!.municipality).toBeUndefined();
    expect(letters[0]!.deviceId).toBeUndefined();
    const inStore = await store.raw.query().collectRows(`from(bucket: "${store.raw.bucket}") |> range(start: 2026-01-01T11:00:00Z, stop: 2026-01-01T13:00:00Z) |> filter(fn: (r) => r._measurement == "energy")`);
    expect(inStore).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort(intake)}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`edge_intake_records_refused_total\\{edge="${kal.edgeId}",code="edge_scope"[^}]*\\} 1\n`));
    expect(intake.log()).toContain("refused a record from an edge's topic");
    console.info(`[town edges] forged mytilene reading on ${kal.edgeId}'s topic: dead-lettered (edge_scope), counted, logged; other topics refused by Kafka's ACLs`);
  }, 120_000);

  it('stops acknowledging when its spool is full, and delivers everything acknowledged once the link returns', async () => {
    const kal = edges.get('kalamata')!;
    const device = { id: `${kal.edgeId}-full`, secret: '' };
    device.secret = await addDevice('kalamata', device.id);
    kal.proc!.child.kill('SIGKILL');
    kal.env = { ...kal.env, SPOOL_MAX_BYTES: '24576', SPOOL_SEGMENT_BYTES: '8192' };
    kal.dataDir = mkdtempSync(join(tmpdir(), 'edge-full-'));
    await spawnEdge(kal, 'forwarding directly');
    await waitUntil(async () => (await tryLogin(kal.mqttPort, device.id, device.secret)) === 0, 10_000, 'the new device known at the edge');
    kal.proxy.cut();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${kal.mqttPort}`, { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0 });
    const from = Date.UTC(2026, 11, 5, 0, 0);
    let acked = 0;
    let refused = false;
    for (let i = 0; i < 1000 && !refused; i++) {
      const r = await Promise.race([
        c.publishAsync(`city/kalamata/energy/${device.id}/telemetry`, JSON.stringify({ ts: from + i * MIN, energy_wh: 1000 + i, pad: 'x'.repeat(200) }), { qos: 1 }).then(() => true, () => false),
        sleep(5000).then(() => false),
      ]);
      if (r) acked++;
      else refused = true;
    }
    c.end(true);
    expect(refused, 'a publish left without PUBACK once the spool is full').toBe(true);
    expect(acked).toBeGreaterThan(10);
    // HTTP ingest says so: 503, nothing taken (a reading larger than the one that no longer fitted).
    const httpPort = Number(/"httpIngestPort":(\d+)/.exec(kal.proc!.log())![1]);
    const res = await fetch(`http://127.0.0.1:${httpPort}/ingest/v1/kalamata/energy/${device.id}`, { method: 'POST', headers: { authorization: `Bearer ${device.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ ts: from + 1500 * MIN, energy_wh: 1, pad: 'x'.repeat(400) }) });
    expect(res.status, await res.text()).toBe(503);
    kal.proxy.restore();
    const count = async () => (await store.raw.query().collectRows<{ _value: number }>(`from(bucket: "${store.raw.bucket}") |> range(start: 2000-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "energy" and r._field == "energy_wh" and r.device == "${device.id}") |> count()`))[0]?._value ?? 0;
    let stored = 0;
    await waitUntil(async () => (stored = await count()) >= acked, 60_000, 'the acknowledged readings stored').catch(() => undefined);
    expect(stored).toBe(acked);
    console.info(`[town edges] spool full after ${acked} acknowledged readings: the next publish got no PUBACK, HTTP ingest answered 503; all ${acked} stored after the link returned`);
  }, 180_000);
});

/** A spawned service's ops port, from its "running" line. */
function opsPort(p: Spawned): number {
  return Number(/"opsPort":(\d+)/.exec(p.log())![1]);
}
