/**
 * Hostile input, round 2, on the gateway (real Kafka): the protections cannot be turned against a
 * genuine device. Dropped connections do not keep counting as sessions; a guesser's wrong secrets
 * from another address never delay the genuine device's login; a device publishing far over its
 * rate is paced on the wire, so its backlog stays out of the heap; identifiers of 30 kB are refused
 * with bounded answers on every listener.
 */
import { connect } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { sleep } from '../../shared/time.ts';
import { mqttLogin, post } from '../support/attack.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** Heap and Buffers (which live outside the heap) after a full collection. */
const heapMb = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1024 / 1024;
};

describe('gateway against hostile input, round 2', () => {
  let gw: TestGateway;
  let registry: DeviceRegistry;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_SESSIONS_PER_DEVICE: '4', DEVICE_RATE_LIMIT: '20', DEVICE_RATE_BURST: '20', MAX_PAYLOAD_BYTES: String(48 * 1024) });
    registry = new DeviceRegistry(gw.registryPath);
    for (const id of ['kal-flaky', 'kal-victim', 'kal-flooder']) secrets[id] = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: id });
  });
  afterAll(() => gw.close());

  const metric = (name: string, labels: Record<string, string> = {}) => gw.metric(name, labels);
  const port = () => gw.gateway.mqttPort;

  it('lets a flaky device back in at once after 12 connections dropped at every point of the login', async () => {
    const login = { username: 'kal-flaky', password: secrets['kal-flaky']! };
    const connectPacket = (clientId: string) => mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username: login.username, password: Buffer.from(login.password) });
    /** Opens a connection, sends CONNECT, and drops TCP (no DISCONNECT) after `waitMs` — 0 is inside the login. */
    const dropAfter = (clientId: string, waitMs: number) =>
      new Promise<void>((resolve) => {
        const s = connect(port(), '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.on('connect', () => {
          s.write(connectPacket(clientId));
          setTimeout(() => s.destroy(), waitMs);
        });
      });
    // Waits chosen across the login: before the password check ends, around CONNACK, well after.
    const waits = [0, 1, 2, 5, 10, 20, 40, 80, 150, 300, 500, 1000];
    for (const [i, w] of waits.entries()) await dropAfter(`kal-flaky:modem-${i}`, w);
    // And one dropped before it sent anything at all.
    await new Promise<void>((resolve) => {
      const s = connect(port(), '127.0.0.1', () => s.destroy());
      s.on('close', () => resolve());
    });
    const again = await mqttLogin(port(), { clientId: 'kal-flaky:modem-new', ...login });
    console.log(`[flaky modem] 12 dropped logins, then CONNACK ${again.code} in ${again.ms} ms`);
    expect(again.code).toBe(0);
    expect(again.ms).toBeLessThan(1000);
    expect(await metric('gateway_auth_failures_total', { reason: 'too_many_sessions' })).toBe(0);
    await waitUntil(async () => (await metric('gateway_connected_devices')) === 0, 5000, 'no connection left counted');
  });

  it('never delays the genuine device while a guesser sends 2 wrong secrets a second for 2 minutes from another address, over MQTT and HTTP', async () => {
    const ingest = gw.gateway.httpIngestPort;
    const stopAt = Date.now() + 120_000;
    let guesses = 0;
    const guesser = (async () => {
      for (let i = 0; Date.now() < stopAt; i++) {
        // One wrong secret over MQTT from 127.0.0.2, one over HTTP from 127.0.0.3, each second.
        await Promise.all([
          mqttLogin(port(), { clientId: `kal-victim:g${i}`, username: 'kal-victim', password: `guess-${i}`, localAddress: '127.0.0.2', timeoutMs: 5000 }),
          post(ingest, '/ingest/v1/kalamata/energy/kal-victim', '{"energy_wh":1}', { authorization: `Bearer guess-${i}` }, '127.0.0.3').catch(() => undefined),
          sleep(1000),
        ]);
        guesses += 2;
      }
    })();
    const logins: { mqtt: number | string; mqttMs: number; http: number; httpMs: number }[] = [];
    for (let k = 0; Date.now() < stopAt - 3000; k++) {
      // A registry change (or a restart) forgets every secret verified before: the worst case.
      if (k % 3 === 0) await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: `kal-other-${k}` });
      await sleep(200);
      const m = await mqttLogin(port(), { clientId: 'kal-victim', username: 'kal-victim', password: secrets['kal-victim']! });
      const h = await post(ingest, '/ingest/v1/kalamata/energy/kal-victim', JSON.stringify({ ts: Date.now(), energy_wh: 1000 + k }), { authorization: `Bearer ${secrets['kal-victim']}` });
      logins.push({ mqtt: m.code, mqttMs: m.ms, http: h.status, httpMs: h.ms });
      await sleep(4000);
    }
    await guesser;
    const worst = Math.max(...logins.map((l) => Math.max(l.mqttMs, l.httpMs)));
    console.log(`[guesser] ${guesses} wrong secrets in 2 min from two other addresses; genuine device: ${logins.length} MQTT logins (CONNACK ${[...new Set(logins.map((l) => l.mqtt))].join('/')}) and ${logins.length} HTTP posts (${[...new Set(logins.map((l) => l.http))].join('/')}), slowest ${worst} ms`);
    expect(guesses).toBeGreaterThanOrEqual(220);
    expect(logins.length).toBeGreaterThanOrEqual(20);
    expect(logins.every((l) => l.mqtt === 0 && l.http === 202)).toBe(true);
    expect(worst).toBeLessThan(1000);
    // The guesser is what got slowed down.
    expect(await metric('gateway_auth_failures_total', { reason: 'throttled' })).toBeGreaterThan(100);
  }, 180_000);

  it('paces a device publishing 10 × over its rate on the wire: under 5 MB of heap, no more publishes taken than its rate allows', async () => {
    // A client that ignores PUBACKs and writes 32 kB QoS 1 publishes at 200/s (its rate is 20/s).
    // It writes one Buffer over and over, so what it queues costs this heap next to nothing.
    const packet = mqttPacket.generate({ cmd: 'publish', topic: 'city/kalamata/energy/kal-flooder/telemetry', payload: Buffer.alloc(32 * 1024, 0x20), qos: 1, messageId: 7, retain: false, dup: false });
    const s = connect(port(), '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'kal-flooder', keepalive: 60, username: 'kal-flooder', password: Buffer.from(secrets['kal-flooder']!) }));
    await sleep(500);
    const before = heapMb();
    const acceptedBefore = await metric('gateway_publishes_total', { source: 'mqtt', result: 'accepted' });
    const t0 = Date.now();
    let sent = 0;
    let blockedWrites = 0;
    while (Date.now() - t0 < 5_000) {
      // 10 per 50 ms = 200/s; a full socket buffer is left to fill (as a device's would).
      for (let i = 0; i < 10; i++, sent++) if (!s.write(packet)) blockedWrites++;
      await sleep(50);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const during = heapMb();
    const taken = (await metric('gateway_publishes_total', { source: 'mqtt', result: 'accepted' })) - acceptedBefore;
    const allowed = 20 + 20 * elapsed;
    console.log(`[over-rate] sent ${sent} publishes of 32 kB in ${elapsed.toFixed(1)} s (client buffer ${(s.writableLength / 1e6).toFixed(1)} MB, ${blockedWrites} writes over the socket's buffer); the gateway took ${taken} (rate allows ${allowed.toFixed(0)}); heap and Buffers ${before.toFixed(1)} → ${during.toFixed(1)} MB`);
    s.destroy();
    expect(sent).toBeGreaterThan(allowed * 3);
    expect(taken).toBeLessThanOrEqual(allowed + 5);
    expect(during - before).toBeLessThan(5);
  }, 60_000);

  it('refuses 30 kB identifiers on MQTT and HTTP with bounded answers, before any lookup', async () => {
    const huge = 'a'.repeat(15_000); // the most a CONNECT may carry (16 kB); more is cut on the wire
    const m = await mqttLogin(port(), { clientId: 'probe', username: huge, password: 'x' });
    expect(m.code).toBe(4);
    const h = await post(gw.gateway.httpIngestPort, `/ingest/v1/kalamata/energy/${'a'.repeat(90)}`, '{}', { authorization: 'Bearer x' });
    expect(h.status).toBe(400);
    expect(h.body.length).toBeLessThan(400);
    expect(JSON.parse(h.body)).toMatchObject({ error: 'identifier_invalid', field: 'deviceId' });
    const h12 = await post(gw.gateway.httpIngestPort, `/ingest/v1/kalamata/energy/${'a'.repeat(12_000)}`, '{}', { authorization: 'Bearer x' });
    const h30 = await post(gw.gateway.httpIngestPort, `/ingest/v1/kalamata/energy/${'a'.repeat(30_000)}`, '{}', { authorization: 'Bearer x' }).catch(() => ({ status: 0, body: '' }));
    console.log(`[identifiers] 15 kB MQTT username: CONNACK ${m.code}; 90-character HTTP device id: ${h.status} (${h.body.length} bytes); 12 kB: ${h12.status}; 30 kB: ${h30.status || 'connection closed'}`);
    expect(h12.status).toBe(414); // a path parameter over 100 characters: refused before any route runs
    expect(h12.body.length).toBeLessThan(400);
    expect([0, 431]).toContain(h30.status); // over Node's header limit
  });
});
