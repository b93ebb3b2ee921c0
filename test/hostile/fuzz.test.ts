/**
 * A bounded fuzz run against the whole product (`npm start`, embedded): thousands of MQTT packets
 * and payloads drawn by fast-check — raw bytes and mangled packets from unauthenticated sockets,
 * and arbitrary payloads published by an authenticated device — while a well-behaved device keeps
 * publishing. The process stays up, its memory stays bounded, and every good reading is stored.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { waitUntil } from '../support/gateway.ts';
import { freePort } from '../support/services.ts';
import { spawnScript, type Spawned } from '../support/spawn.ts';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Packets a broken or hostile client might send: random bytes, and real packet types with random fields. */
const packetArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)),
  fc
    .record({ clientId: fc.string({ maxLength: 40 }), username: fc.option(fc.string({ maxLength: 40 })), password: fc.option(fc.uint8Array({ maxLength: 40 })), keepalive: fc.integer({ min: 0, max: 65535 }), protocolVersion: fc.constantFrom(3, 4, 5) })
    .map((c) => {
      try {
        return mqttPacket.generate({ cmd: 'connect', protocolId: c.protocolVersion === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: c.protocolVersion, clean: true, clientId: c.clientId, keepalive: c.keepalive, ...(c.username !== null ? { username: c.username } : {}), ...(c.password !== null ? { password: Buffer.from(c.password) } : {}) });
      } catch {
        return Buffer.from([0x10, 0x00]);
      }
    }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ maxLength: 200 })).map(([h, len, body]) => Buffer.concat([Buffer.from([0x10]), Buffer.from([h]), Buffer.from(len), Buffer.from(body)])),
);

/** Payloads a careless device might publish. */
const payloadArb = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.array(fc.dictionary(fc.constantFrom('ts', 'energy_wh', 'power_w', 'n', 'v', 'bt', 'u', '__proto__'), fc.oneof(fc.double(), fc.string(), fc.boolean(), fc.constant(1e300))), { maxLength: 50 }).map((a) => JSON.stringify(a)),
  fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 500 }),
);

describe('fuzz run against npm start', () => {
  let node: Spawned;
  let dir: string;
  let mqttPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    mqttPort = await freePort();
    node = await spawnScript('npm start', ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(await freePort())], { OPS_PORT_BASE: '0', DEVICE_RATE_LIMIT: '2000', DEVICE_RATE_BURST: '2000' }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL']);
  });
  afterAll(() => node?.child.kill('SIGTERM'));

  it('stays up with bounded memory, and stores every reading of a well-behaved device', async () => {
    const registry = new DeviceRegistry(join(dir, 'devices.json'));
    const fuzzSecret = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-fuzzer' });
    const goodSecret = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-good' });
    const pid = node.child.pid!;
    const rssBefore = rssMb(pid);

    // 1. Unauthenticated sockets sending fuzzed packets, 16 at a time, each given 150 ms.
    const packets = fc.sample(packetArb, { numRuns: 1500, seed: 4242 });
    const tRaw = Date.now();
    for (let i = 0; i < packets.length; i += 16) {
      await Promise.all(
        packets.slice(i, i + 16).map(
          (p) =>
            new Promise<void>((resolve) => {
              const s = connect(mqttPort, '127.0.0.1');
              s.on('error', () => resolve());
              s.on('close', () => resolve());
              s.on('connect', () => s.end(p));
              setTimeout(() => (s.destroy(), resolve()), 150);
            }),
        ),
      );
    }

    // 2. An authenticated device publishing fuzzed payloads, while a good device publishes readings.
    const fuzzer = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'kal-fuzzer', username: 'kal-fuzzer', password: fuzzSecret, reconnectPeriod: 500 });
    const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'kal-good', username: 'kal-good', password: goodSecret });
    const payloads = fc.sample(payloadArb, { numRuns: 2000, seed: 7 });
    const t0 = Date.now() - 3_600_000;
    const goodTs: number[] = [];
    const t1 = Date.now();
    for (let i = 0; i < payloads.length; i += 50) {
      await Promise.all(payloads.slice(i, i + 50).map((p) => fuzzer.publishAsync('city/kalamata/energy/kal-fuzzer/telemetry', p, { qos: 1 }).catch(() => undefined)));
      const ts = t0 + i * 1000;
      await good.publishAsync('city/kalamata/energy/kal-good/telemetry', JSON.stringify({ ts, energy_wh: 1000 + i }), { qos: 1 });
      goodTs.push(ts);
    }
    console.log(`[fuzz] raw packets ${t1 - tRaw} ms, payloads ${Date.now() - t1} ms`);
    await fuzzer.endAsync();
    await good.endAsync();

    const store = new SqliteStore(join(dir, 'store.db'));
    const stored = () => new Set(store.points('energy').filter((p) => p.tags.device === 'kal-good').map((p) => p.ts));
    await waitUntil(() => goodTs.every((t) => stored().has(t)), 60_000, 'the good device readings').catch(() => undefined);
    expect(goodTs.filter((t) => !stored().has(t))).toEqual([]);
    await store.close();

    const rssAfter = rssMb(pid);
    console.log(`[fuzz] 1500 raw packets + 2000 payloads: process up, RSS ${rssBefore.toFixed(0)} MB → ${rssAfter.toFixed(0)} MB, ${goodTs.length} good readings all stored`);
    expect(node.child.exitCode).toBeNull();
    expect(rssAfter).toBeLessThan(rssBefore + 300);
  }, 240_000);
});
