/**
 * The gateway under careless and hostile clients, on the real Kafka: oversized packets are cut
 * before authentication, a bad-password flood costs almost no password hashes and does not keep
 * a good device out, a catching-up device is slowed down rather than disconnected, and one
 * device cannot open unlimited sessions.
 */
import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { testKafka } from '../support/services.ts';

describe('gateway limits against hostile clients', () => {
  let gw: TestGateway;
  let registry: DeviceRegistry;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway({ DEVICE_RATE_LIMIT: '20', DEVICE_RATE_BURST: '10', MAX_SESSIONS_PER_DEVICE: '3' });
    registry = new DeviceRegistry(gw.registryPath);
    for (const id of ['kal-catchup', 'kal-genuine', 'kal-sessions']) secrets[id] = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: id });
  });
  afterAll(() => gw.close());

  const metric = (name: string, labels: Record<string, string> = {}) => gw.metric(name, labels);

  it('cuts unauthenticated connections announcing huge CONNECT packets before reading their bodies', async () => {
    const port = gw.gateway.mqttPort;
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<{ closed: boolean; written: number }>((resolve) => {
          const s = tcpConnect(port, '127.0.0.1');
          let written = 0;
          const chunk = Buffer.alloc(64 * 1024);
          const timer = setTimeout(() => {
            s.destroy();
            resolve({ closed: false, written });
          }, 5000);
          s.on('close', () => {
            clearTimeout(timer);
            resolve({ closed: true, written });
          });
          s.on('error', () => undefined);
          s.on('connect', () => {
            // CONNECT announcing 200 MiB (0xc8 0x80 0x80 0x64 = 209,715,200), then its "body" as fast as the socket takes it.
            s.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]));
            const pump = () => {
              while (!s.destroyed && written < 150 * 1024 * 1024 && s.write(chunk)) written += chunk.length;
            };
            s.on('drain', pump);
            pump();
          });
        }),
      ),
    );
    for (const r of results) expect(r.closed).toBe(true);
    console.log(`[huge CONNECT] 4 connections cut; bytes written by the clients before the cut: ${results.map((r) => r.written).join(', ')}`);
    expect(await metric('gateway_connections_cut_total', { reason: 'packet_too_large' })).toBeGreaterThanOrEqual(4);
  });

  it('slows a device that catches up (100 QoS 1 publishes at once, rate 20/s) to its rate instead of disconnecting it', async () => {
    const c = await mqtt.connectAsync(gw.url, { clientId: 'kal-catchup', username: 'kal-catchup', password: secrets['kal-catchup'], reconnectPeriod: 0 });
    let closed = false;
    c.on('close', () => (closed = true));
    const t0 = Date.now();
    const base = Date.UTC(2026, 10, 20);
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.publishAsync('city/kalamata/energy/kal-catchup/telemetry', JSON.stringify({ ts: base + i * 1000, energy_wh: i }), { qos: 1 })));
    const elapsed = Date.now() - t0;
    expect(closed).toBe(false);
    await c.endAsync();
    console.log(`[backpressure] 100 publishes acknowledged in ${elapsed} ms (burst 10, then 20/s), no disconnect`);
    expect(await metric('gateway_backpressure_waits_total')).toBeGreaterThanOrEqual(80);
    let mine: string[] = [];
    await waitUntil(async () => (mine = (await readTopic(testKafka(), gw.topic)).filter((r) => r.key === 'kal-catchup').map((r) => r.value)).length >= 100, 20_000, 'records');
    expect(mine).toHaveLength(100); // each once: no resend loop
  });

  it('applies the device rate to its status topic too', async () => {
    const before = await metric('gateway_backpressure_waits_total');
    const c = await mqtt.connectAsync(gw.url, { clientId: 'kal-sessions', username: 'kal-sessions', password: secrets['kal-sessions'], reconnectPeriod: 0 });
    await Promise.all(Array.from({ length: 20 }, () => c.publishAsync('city/kalamata/energy/kal-sessions/status', 'online', { qos: 1 })));
    await c.endAsync();
    expect((await metric('gateway_backpressure_waits_total')) - before).toBeGreaterThanOrEqual(9);
  });

  it('refuses a flood of 300 bad-password logins almost without hashing, while the genuine device connects', async () => {
    // The genuine device has connected before (its secret is verified once and remembered).
    const first = await mqtt.connectAsync(gw.url, { clientId: 'kal-genuine', username: 'kal-genuine', password: secrets['kal-genuine'], reconnectPeriod: 0 });
    await first.endAsync();
    const hashedBefore = await metric('gateway_auth_failures_total', { reason: 'bad_secret' });
    const flood = Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => mqtt.connectAsync(gw.url, { clientId: `kal-genuine:x${i}`, username: 'kal-genuine', password: `wrong-${i}`, reconnectPeriod: 0, connectTimeout: 20_000 })),
    );
    const t0 = Date.now();
    const genuine = await mqtt.connectAsync(gw.url, { clientId: 'kal-genuine', username: 'kal-genuine', password: secrets['kal-genuine'], reconnectPeriod: 0 });
    const loginMs = Date.now() - t0;
    await genuine.endAsync();
    const results = await flood;
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const hashed = (await metric('gateway_auth_failures_total', { reason: 'bad_secret' })) - hashedBefore;
    const throttled = await metric('gateway_auth_failures_total', { reason: 'throttled' });
    console.log(`[login flood] genuine login during the flood: ${loginMs} ms; bad passwords hashed: ${hashed}; throttled without hashing: ${throttled}`);
    expect(hashed).toBeLessThanOrEqual(10);
    expect(throttled).toBeGreaterThanOrEqual(290);
  });

  it('caps the sessions one device may hold', async () => {
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await mqtt.connectAsync(gw.url, { clientId: `kal-sessions:${i}`, username: 'kal-sessions', password: secrets['kal-sessions'], reconnectPeriod: 0 }));
    await expect(mqtt.connectAsync(gw.url, { clientId: 'kal-sessions:3', username: 'kal-sessions', password: secrets['kal-sessions'], reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|refused/i);
    // Reconnecting under an id already held replaces that session: allowed.
    const again = await mqtt.connectAsync(gw.url, { clientId: 'kal-sessions:0', username: 'kal-sessions', password: secrets['kal-sessions'], reconnectPeriod: 0 });
    await again.endAsync();
    for (const c of open) await c.endAsync(true);
    expect(await metric('gateway_auth_failures_total', { reason: 'too_many_sessions' })).toBe(1);
  });
});
