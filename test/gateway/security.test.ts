/**
 * Devices authenticate and touch only their own topics: every refusal leaves nothing in Kafka and
 * the gateway keeps serving the well-behaved devices.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { readingKeys } from '../support/ground-truth.ts';
import { testKafka } from '../support/services.ts';

const reading = (ts: number) => JSON.stringify({ ts, energy_wh: 100 });

describe('gateway security', () => {
  let gw: TestGateway;
  let registry: DeviceRegistry;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_PAYLOAD_BYTES: '1024' });
    registry = new DeviceRegistry(gw.registryPath);
    secrets.good = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-good' });
    secrets.bad = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-bad' });
    secrets.myt = await registry.add({ municipality: 'mytilene', kind: 'energy', deviceId: 'myt-other' });
  });
  afterAll(() => gw.close());

  const connect = (id: string, password: string, clientId = id) =>
    mqtt.connectAsync(gw.url, { clientId, username: id, password, reconnectPeriod: 0, connectTimeout: 5000 });

  /** Publishes and reports whether the gateway acknowledged it or dropped the connection. */
  const tryPublish = (c: MqttClient, topic: string, payload: string | Buffer) =>
    new Promise<'acked' | 'closed'>((resolve) => {
      c.once('close', () => resolve('closed'));
      c.publish(topic, payload, { qos: 1 }, (err) => resolve(err ? 'closed' : 'acked'));
    });

  it('refuses a wrong secret, an unknown device and a foreign client id at CONNACK', async () => {
    await expect(connect('kal-good', 'not-the-secret')).rejects.toThrow(/Bad username or password|refused/i);
    await expect(connect('nobody-here', 'whatever')).rejects.toThrow(/Bad username or password|refused/i);
    await expect(connect('kal-bad', secrets.bad!, 'kal-good')).rejects.toThrow(/Not authorized|refused/i);
    const ok = await connect('kal-good', secrets.good!, 'kal-good:second-session');
    await ok.endAsync();
  });

  it("refuses publishes to another device's or municipality's topic and oversized payloads; others keep flowing", async () => {
    const good = await connect('kal-good', secrets.good!);
    const attempts: [string, string][] = [
      ['city/kalamata/energy/kal-good/telemetry', reading(1)], // another device's topic (kal-bad → kal-good)
      ['city/mytilene/energy/kal-bad/telemetry', reading(2)], // another municipality
      ['city/kalamata/energy/kal-bad/cmd/reset', reading(3)], // commands are not for devices to send
      ['city/kalamata/energy/kal-bad/telemetry', JSON.stringify({ ts: 4, energy_wh: 1, pad: 'x'.repeat(2000) })], // > 1 KiB
    ];
    for (const [i, [topic, payload]] of attempts.entries()) {
      const bad = await connect('kal-bad', secrets.bad!);
      expect(await tryPublish(bad, topic, payload), topic).toBe('closed');
      bad.end(true);
      // The well-behaved device is still served between the attacks.
      expect(await tryPublish(good, 'city/kalamata/energy/kal-good/telemetry', reading(100 + i))).toBe('acked');
    }
    await good.endAsync();
    const keys = readingKeys(await readTopic(testKafka(), gw.topic));
    expect(keys.filter((k) => k.startsWith('kal-bad@'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('kal-good@'))).toHaveLength(attempts.length);
    const metrics = await gw.metrics.metrics();
    for (const reason of ['topic_not_own', 'topic_cmd_publish', 'payload_too_large']) expect(metrics).toMatch(new RegExp(`reason="${reason}"`));
  });

  it('lets a device subscribe only to its own cmd/# and deliver commands there', async () => {
    const dev = await connect('myt-other', secrets.myt!);
    const granted = await dev.subscribeAsync('city/mytilene/energy/myt-other/cmd/#', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    // A refused filter comes back in the SUBACK with the failure code (mqtt.js rejects on it).
    await expect(dev.subscribeAsync('city/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(dev.subscribeAsync('city/kalamata/energy/kal-good/cmd/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(dev.connected).toBe(true);
    const got = new Promise<string>((r) => dev.on('message', (t) => r(t)));
    await new Promise<void>((r) => gw.gateway.broker.publish({ cmd: 'publish', topic: 'city/mytilene/energy/myt-other/cmd/reset', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false }, () => r()));
    expect(await got).toBe('city/mytilene/energy/myt-other/cmd/reset');
    await dev.endAsync();
  });

  it('disconnects a connected device as soon as it is revoked, and refuses it afterwards', async () => {
    const secret = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-revoked' });
    const dev = await connect('kal-revoked', secret);
    expect(await tryPublish(dev, 'city/kalamata/energy/kal-revoked/telemetry', reading(7))).toBe('acked');
    const closed = new Promise<void>((r) => dev.once('close', () => r()));
    await new DeviceRegistry(gw.registryPath).revoke('kal-revoked'); // as the CLI would, from another process
    await closed;
    await expect(connect('kal-revoked', secret)).rejects.toThrow(/Not authorized|refused/i);
    await waitUntil(async () => (await gw.metrics.metrics()).includes('reason="revoked"'), 2000, 'revoked metric');
  });

  it('survives a malformed MQTT packet and a binary payload without crashing', async () => {
    const { createConnection } = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = createConnection(gw.gateway.mqttPort, '127.0.0.1', () => s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const good = await connect('kal-good', secrets.good!);
    expect(await tryPublish(good, 'city/kalamata/energy/kal-good/telemetry', Buffer.from([0xff, 0x00, 0xfe]))).toBe('acked');
    await good.endAsync();
    const records = await readTopic(testKafka(), gw.topic);
    const binary = records.map((r) => JSON.parse(r.value) as { payload: string; payloadEncoding: string }).find((e) => e.payloadEncoding === 'base64');
    expect(Buffer.from(binary!.payload, 'base64')).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
  });
});
