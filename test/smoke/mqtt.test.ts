/** Proves MQTT is real: mqtt.js publishes to an aedes broker over TCP and a subscriber receives it. */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

describe('MQTT (real aedes broker over TCP)', () => {
  let broker: Aedes;
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });

  it('delivers a QoS 1 publish from one client to a subscriber', async () => {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'sub' });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'pub' });
    await sub.subscribeAsync('city/orestiada/parking/bay-1/telemetry', { qos: 1 });
    const got = new Promise<string>((r) => sub.on('message', (_t, payload) => r(payload.toString())));
    await pub.publishAsync('city/orestiada/parking/bay-1/telemetry', JSON.stringify({ ts: 1, occupied: true }), { qos: 1 });
    expect(JSON.parse(await got)).toEqual({ ts: 1, occupied: true });
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });
});
