/**
 * The ChirpStack v4 MQTT source against a real broker (Mosquitto playing ChirpStack's), the real
 * Kafka and InfluxDB: uplink events in ChirpStack's documented JSON — a parking sensor, an energy
 * meter, a GPS tracker — reach the store as readings of the registered devices; an unknown
 * DevEUI, a tenant of another municipality and an undecoded event are dead-lettered with reasons;
 * a repeated deduplicationId is dropped. Then the gateway is killed with SIGKILL mid-stream and
 * restarted: every event the broker delivered reaches the bus (persistent session, ack after the bus).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { deadLetterSchema } from '../../shared/schemas/deadletter.ts';
import { rawEnvelopeSchema } from '../../shared/schemas/envelope.ts';
import type { StorePoint } from '../../shared/store/store.ts';
import { sleep } from '../../shared/time.ts';
import { spawnGateway, waitUntil } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { testKafka, unique } from '../support/services.ts';

const T0 = Date.parse('2026-11-27T09:00:00.000Z');
const APP = 'ca739e26-7b67-4f14-b69e-d568c22a5a75';

/** An uplink event as ChirpStack v4 publishes it (JSON; proto3 leaves out zero values such as fCnt 0). */
function uplinkEvent(o: { devEui: string; tenant: string; at: number; object?: Record<string, unknown>; fCnt?: number; dedup?: string }) {
  return JSON.stringify({
    deduplicationId: o.dedup ?? `${o.devEui}-${o.at}`,
    time: new Date(o.at).toISOString(),
    deviceInfo: { tenantId: `tenant-${o.tenant.toLowerCase()}`, tenantName: o.tenant, applicationId: APP, applicationName: 'city sensors', deviceProfileName: 'generic', deviceName: o.devEui, devEui: o.devEui, tags: {} },
    devAddr: '00189440',
    adr: true,
    dr: 5,
    ...(o.fCnt ? { fCnt: o.fCnt } : {}),
    fPort: 1,
    data: 'AQ==',
    ...(o.object ? { object: o.object } : {}),
    rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 1, rssi: -57, snr: 9.5 }],
    txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
  });
}
const upTopic = (devEui: string) => `application/${APP}/device/${devEui}/event/up`;

async function publishAll(url: string, events: { devEui: string; body: string }[]) {
  const c = await mqtt.connectAsync(url, { clientId: unique('chirpstack-ns'), reconnectPeriod: 0 });
  for (const e of events) await c.publishAsync(upTopic(e.devEui), e.body, { qos: 1 });
  await c.endAsync();
}

describe('ChirpStack source', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(() => broker.stop());

  describe('into the store', () => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await startPipeline({ extraEnv: { CHIRPSTACK_MQTT_URL: broker.url, CHIRPSTACK_TENANT_MAP: '{"Kalamata":"kalamata","tenant-mytilene":"mytilene"}' } });
      const reg = new DeviceRegistry(p.gw.registryPath);
      await reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'kal-bay-cs' }, { lot: 'kalamata-lot-1' }, { devEui: '0101010101010101' });
      await reg.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-meter-cs' }, {}, { devEui: '0202020202020202' });
      await reg.add({ municipality: 'mytilene', kind: 'fleet', deviceId: 'myt-truck-cs' }, {}, { devEui: 'A3A3A3A3A3A3A3A3' });
      await waitUntil(() => p.gw.gateway.chirpstack?.subscribed() ?? false, 20_000, 'the source subscribed');
    });
    afterAll(() => p.close());

    it('stores parking, energy and GPS uplinks; dead-letters unknown, foreign-tenant and undecoded ones; drops repeats', async () => {
      const parking1 = uplinkEvent({ devEui: '0101010101010101', tenant: 'Kalamata', at: T0, object: { occupied: 1 } });
      await publishAll(broker.url, [
        { devEui: '0101010101010101', body: parking1 },
        { devEui: '0101010101010101', body: uplinkEvent({ devEui: '0101010101010101', tenant: 'Kalamata', at: T0 + 300_000, object: { occupied: 0 }, fCnt: 2 }) },
        { devEui: '0202020202020202', body: uplinkEvent({ devEui: '0202020202020202', tenant: 'Kalamata', at: T0, object: { energy_wh: 1000, power_w: 400 } }) },
        { devEui: '0202020202020202', body: uplinkEvent({ devEui: '0202020202020202', tenant: 'Kalamata', at: T0 + 60_000, object: { energy_wh: 1007 }, fCnt: 1 }) },
        // The tracker's tenant is mapped by id; its DevEUI arrives lower-case.
        { devEui: 'a3a3a3a3a3a3a3a3', body: uplinkEvent({ devEui: 'a3a3a3a3a3a3a3a3', tenant: 'Mytilene', at: T0, object: { lat: 39.107, lon: 26.555, speed_kmh: 22 } }) },
        { devEui: '0909090909090909', body: uplinkEvent({ devEui: '0909090909090909', tenant: 'Kalamata', at: T0, object: { occupied: 1 } }) },
        { devEui: '0101010101010101', body: uplinkEvent({ devEui: '0101010101010101', tenant: 'Mytilene', at: T0 + 600_000, object: { occupied: 1 } }) },
        { devEui: '0101010101010101', body: uplinkEvent({ devEui: '0101010101010101', tenant: 'Kalamata', at: T0 + 900_000 }) },
        { devEui: '0101010101010101', body: parking1 }, // ChirpStack retrying the same deduplicationId
      ]);

      const points = (kind: string, device: string) => p.telemetry.devicePoints(kind, device, T0 - 3_600_000, T0 + 3_600_000);
      let got: StorePoint[][] = [];
      await waitUntil(
        async () => {
          got = await Promise.all([points('parking', 'kal-bay-cs'), points('energy', 'kal-meter-cs'), points('fleet', 'myt-truck-cs')]);
          return got[0]!.length >= 2 && got[1]!.length >= 2 && got[2]!.length >= 1;
        },
        60_000,
        'the uplinks stored',
      ).catch(() => undefined);
      const [parking, energy, fleet] = got;
      expect(parking!.map((x) => [x.ts, x.fields.occupied, x.tags.municipality, x.tags.lot])).toEqual([
        [T0, true, 'kalamata', 'kalamata-lot-1'],
        [T0 + 300_000, false, 'kalamata', 'kalamata-lot-1'],
      ]);
      expect(energy!.map((x) => [x.ts, x.fields.energy_wh])).toEqual([
        [T0, 1000],
        [T0 + 60_000, 1007],
      ]);
      expect(fleet!.map((x) => [x.ts, x.fields.lat, x.tags.municipality])).toEqual([[T0, 39.107, 'mytilene']]);

      let dead: ReturnType<typeof deadLetterSchema.parse>[] = [];
      await waitUntil(
        async () => {
          dead = (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).map((r) => deadLetterSchema.parse(JSON.parse(r.value)));
          return dead.length >= 3;
        },
        30_000,
        'three dead letters',
      ).catch(() => undefined);
      expect(dead.map((x) => [x.stage, x.code, x.field]).sort()).toEqual([
        ['ingest', 'tenant_mismatch', 'deviceInfo.tenantId'],
        ['ingest', 'unknown_device', 'deviceInfo.devEui'],
        ['normalize', 'field_invalid', 'payload.object'],
      ]);
      const raw = (await readTopic(testKafka(), p.env.TOPIC_RAW!)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value)));
      expect(raw.every((e) => e.source === 'chirpstack')).toBe(true);
      expect(raw).toHaveLength(6); // 9 events: 2 dead-lettered at ingest, 1 repeat dropped
    });

    it('refuses a 2 MB event and a 30 kB DevEUI with bounded dead letters, storing nothing of either', async () => {
      const rawBefore = (await readTopic(testKafka(), p.env.TOPIC_RAW!)).length;
      const deadBefore = (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).length;
      const big = uplinkEvent({ devEui: '0101010101010101', tenant: 'Kalamata', at: T0 + 1_200_000, object: { occupied: 1, padding: 'x'.repeat(2 * 1024 * 1024) } });
      const longEuiEvent = JSON.parse(uplinkEvent({ devEui: '0101010101010101', tenant: 'Kalamata', at: T0 + 1_260_000, object: { occupied: 1 } })) as { deviceInfo: { devEui: string } };
      longEuiEvent.deviceInfo.devEui = 'f'.repeat(30_000);
      const longEui = JSON.stringify(longEuiEvent);
      await publishAll(broker.url, [
        { devEui: '0101010101010101', body: big },
        { devEui: '0101010101010101', body: longEui },
      ]);
      let dead: ReturnType<typeof deadLetterSchema.parse>[] = [];
      await waitUntil(async () => (dead = (await readTopic(testKafka(), p.env.TOPIC_DEADLETTER!)).slice(deadBefore).map((r) => deadLetterSchema.parse(JSON.parse(r.value)))).length >= 2, 30_000, 'two dead letters');
      const bytes = dead.map((x) => JSON.stringify(x).length);
      console.log(`[chirpstack limits] 2 MB event and 30 kB DevEUI: dead letters ${dead.map((x) => x.code).join(', ')} of ${bytes.join(', ')} bytes`);
      expect(dead.map((x) => x.code)).toEqual(['payload_too_large', 'identifier_invalid']);
      expect(dead[0]).toMatchObject({ original: '', originalOmittedBytes: Buffer.byteLength(big) });
      expect(bytes[0]).toBeLessThan(2000);
      expect(dead[1]!.reason.length).toBeLessThan(200);
      expect((await readTopic(testKafka(), p.env.TOPIC_RAW!)).length).toBe(rawBefore);
    });
  });

  it('loses no delivered event when the gateway is killed with SIGKILL mid-stream and restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-kill-'));
    const topic = unique('raw-cs');
    await ensureTopics(testKafka(), [{ topic, partitions: 3, replicationFactor: 1 }]);
    const reg = new DeviceRegistry(join(dir, 'devices.json'));
    await reg.add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-meter-cs' }, {}, { devEui: '0404040404040404' });
    const env = { DATA_DIR: dir, TOPIC_RAW: topic, MQTT_PORT: '0', GATEWAY_ID: 'gw-cs-kill', CHIRPSTACK_MQTT_URL: broker.url, LOG_LEVEL: 'info' };
    let gw = await spawnGateway(env, { ready: 'subscribed' });

    const N = 400;
    const events = Array.from({ length: N }, (_, i) => ({ devEui: '0404040404040404', body: uplinkEvent({ devEui: '0404040404040404', tenant: 'Orestiada', at: T0 + i * 60_000, object: { energy_wh: 1000 + i }, fCnt: i }) }));
    const publishing = (async () => {
      const c = await mqtt.connectAsync(broker.url, { clientId: unique('chirpstack-ns'), reconnectPeriod: 0 });
      for (const [i, e] of events.entries()) {
        await c.publishAsync(upTopic(e.devEui), e.body, { qos: 1 });
        if (i % 5 === 0) await sleep(20);
      }
      await c.endAsync();
    })();
    await sleep(600);
    gw.child.kill('SIGKILL');
    await new Promise((r) => gw.child.once('exit', r));
    const atKill = (await readTopic(testKafka(), topic)).length;
    expect(atKill, 'killed mid-stream: some events on the bus, not all').toBeGreaterThan(0);
    expect(atKill).toBeLessThan(N);
    await sleep(500);
    gw = await spawnGateway(env, { ready: 'connected to the ChirpStack broker' });
    gw.child.stdout?.on('data', (d: Buffer) => process.env.CS_DEBUG && process.stderr.write(d));
    await publishing;

    let seen = new Set<string>();
    let before = 0;
    await waitUntil(
      async () => {
        const raw = (await readTopic(testKafka(), topic)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value)));
        before = raw.length;
        seen = new Set(raw.map((e) => (JSON.parse(e.payload) as { deduplicationId: string }).deduplicationId));
        return seen.size === N;
      },
      60_000,
      'every event on the bus',
    ).catch(() => undefined);
    console.log(`[chirpstack kill -9] ${N} events published, ${atKill} on the bus at the kill, ${seen.size} distinct after the restart (${before} records: repeats are at-least-once replays)`);
    expect(events.filter((e) => !seen.has((JSON.parse(e.body) as { deduplicationId: string }).deduplicationId))).toEqual([]);
    gw.child.kill('SIGTERM');
  }, 150_000);
});
