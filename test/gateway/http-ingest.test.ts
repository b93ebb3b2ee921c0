/**
 * HTTP ingest on the real gateway and the real Kafka: a device posts with its own secret (Bearer
 * or Basic), the same payloads as MQTT, and hears 202 only once the record is on the bus — with
 * `source: "http"` in the envelope and the body as sent. Every refusal has its status and reason;
 * with Kafka stopped the gateway spools, answers 503 once the spool is full too, and every 202'd
 * reading is in the topic after Kafka returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaPid, startKafka, stopKafka, waitKafkaReady } from '../../engines/kafka.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { rawEnvelopeSchema } from '../../shared/schemas/envelope.ts';
import { sleep } from '../../shared/time.ts';
import { startTestGateway, waitUntil, type TestGateway } from '../support/gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { leaveKafkaRunning, testKafka, unique } from '../support/services.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { deadLetterSchema } from '../../shared/schemas/deadletter.ts';

async function post(gw: TestGateway, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`http://127.0.0.1:${gw.gateway.httpIngestPort}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

const TTS_SECRET = 'tts-webhook-secret-0123456789';
const deadTopic = unique('dead');

/** A The Things Stack v3 uplink message as its webhook posts it. */
const ttsUplink = (ids: { device_id: string; dev_eui?: string }, decoded: Record<string, unknown>, application = 'city-sensors') =>
  JSON.stringify({
    end_device_ids: { ...ids, application_ids: { application_id: application } },
    received_at: '2026-11-27T11:58:03.500Z',
    uplink_message: { f_port: 1, f_cnt: 7, frm_payload: 'AQ==', decoded_payload: decoded, received_at: '2026-11-27T11:58:03.412Z' },
  });

describe('HTTP ingest', () => {
  let gw: TestGateway;
  let meter: string;
  let tracker: string;
  beforeAll(async () => {
    gw = await startTestGateway({ DEVICE_RATE_LIMIT: '1', DEVICE_RATE_BURST: '3', TTS_WEBHOOK_SECRET: TTS_SECRET, TOPIC_DEADLETTER: deadTopic, TTS_APPLICATION_MAP: JSON.stringify({ 'city-sensors': 'kalamata', 'petroupoli-meters': 'petroupoli' }) });
    const reg = new DeviceRegistry(gw.registryPath);
    meter = await reg.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'meter-h1' });
    tracker = await reg.add({ municipality: 'mytilene', kind: 'fleet', deviceId: 'truck-h1' });
    await reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'bay-h1' }, {}, { devEui: '70B3D57ED0000A01' });
    await reg.add({ municipality: 'petroupoli', kind: 'energy', deviceId: 'meter-h2' });
  });
  afterAll(() => gw.close());
  beforeAll(() => ensureTopics(testKafka(), [{ topic: deadTopic, partitions: 1, replicationFactor: 1 }]));

  it('takes The Things Stack uplinks by DevEUI or (under the application map) device id, dead-letters an unknown device, refuses a wrong secret', async () => {
    const hook = (body: string, secret = TTS_SECRET) => post(gw, '/ingest/tts/v3/uplink', body, { 'x-webhook-secret': secret });
    const byEui = ttsUplink({ device_id: 'tts-name-not-ours', dev_eui: '70b3d57ed0000a01' }, { occupied: 1 });
    const byId = ttsUplink({ device_id: 'meter-h2' }, { energy_wh: 5000 }, 'petroupoli-meters');
    const stranger = ttsUplink({ device_id: 'nobody', dev_eui: 'FFFFFFFFFFFFFFFF' }, { occupied: 0 });
    expect((await hook(byEui)).body).toEqual({ status: 'accepted', device: 'bay-h1' });
    expect((await hook(byId)).status).toBe(202);
    const unknown = await hook(stranger);
    expect([unknown.status, unknown.body.status]).toEqual([202, 'dead-lettered']);
    const wrong = await hook(byEui, 'not-the-secret');
    expect([wrong.status, wrong.body.error]).toEqual([401, 'bad_secret']);
    expect((await hook(byEui, '')).status).toBe(401);

    const raw = (await readTopic(testKafka(), gw.topic)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value))).filter((e) => e.source === 'tts');
    expect(raw.map((e) => [e.deviceId, e.municipality, e.kind, e.payload])).toEqual(
      expect.arrayContaining([
        ['bay-h1', 'kalamata', 'parking', byEui],
        ['meter-h2', 'petroupoli', 'energy', byId],
      ]),
    );
    expect(raw).toHaveLength(2);
    const dead = (await readTopic(testKafka(), deadTopic)).map((r) => deadLetterSchema.parse(JSON.parse(r.value)));
    expect(dead.map((x) => [x.stage, x.code, x.source, x.original])).toEqual([['ingest', 'unknown_device', { listener: 'tts' }, stranger]]);
    expect(dead[0]!.reason).toMatch(/DevEUI FFFFFFFFFFFFFFFF/);
  });

  it('refuses a TTS event whose DevEUI and device disagree, one of an application of another municipality, and 30 kB identifiers, each with a bounded dead letter', async () => {
    const hook = (body: string) => post(gw, '/ingest/tts/v3/uplink', body, { 'x-webhook-secret': TTS_SECRET });
    const before = (await readTopic(testKafka(), deadTopic)).length;
    const mismatch = await hook(ttsUplink({ device_id: 'meter-h2', dev_eui: '70b3d57ed0000a01' }, { occupied: 1 }));
    expect([mismatch.status, mismatch.body.error]).toEqual([403, 'device_mismatch']);
    const foreign = await hook(ttsUplink({ device_id: 'meter-h2' }, { energy_wh: 1 }, 'city-sensors'));
    expect([foreign.status, foreign.body.error]).toEqual([403, 'tenant_mismatch']);
    const huge = await hook(ttsUplink({ device_id: 'x'.repeat(30_000) }, { energy_wh: 1 }));
    expect([huge.status, huge.body.error]).toEqual([400, 'identifier_invalid']);
    const hugeEui = await hook(ttsUplink({ device_id: 'a', dev_eui: 'f'.repeat(30_000) }, { energy_wh: 1 }));
    expect([hugeEui.status, hugeEui.body.error]).toEqual([400, 'identifier_invalid']);
    const raw = (await readTopic(testKafka(), gw.topic)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value))).filter((e) => e.source === 'tts');
    expect(raw).toHaveLength(2); // only the two accepted in the test before
    let dead: ReturnType<typeof deadLetterSchema.parse>[] = [];
    await waitUntil(async () => (dead = (await readTopic(testKafka(), deadTopic)).slice(before).map((r) => deadLetterSchema.parse(JSON.parse(r.value)))).length >= 4, 10_000, 'dead letters');
    expect(dead.map((x) => x.code)).toEqual(['device_mismatch', 'tenant_mismatch', 'identifier_invalid', 'identifier_invalid']);
    for (const x of dead) expect(x.reason.length).toBeLessThan(300);
    // The originals are kept within the device's dead-letter budget; the reasons never echo them.
    console.log(`[tts refusals] dead-letter reasons: ${dead.map((x) => x.reason.length).join(', ')} chars; originals kept: ${dead.map((x) => x.original.length).join(', ')} bytes`);
  });

  it('stores a reading posted with Bearer or Basic, with source "http" and the body as sent', async () => {
    const native = '{"energy_wh": 1500.5, "power_w": 820, "ts": 1795766400000}';
    const senml = JSON.stringify([{ bn: 'urn:dev:id:truck-h1:', bt: 1795766400, n: 'lat', v: 39.1 }, { n: 'lon', v: 26.55 }]);
    const a = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', native, bearer(meter));
    const b = await post(gw, '/ingest/v1/mytilene/fleet/truck-h1', senml, { ...basic('truck-h1', tracker), 'content-type': 'application/senml+json' });
    expect([a.status, a.body], JSON.stringify(a.body)).toEqual([202, { status: 'accepted', readings: 1 }]);
    expect(b.status, JSON.stringify(b.body)).toBe(202);
    const records = (await readTopic(testKafka(), gw.topic)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value)));
    expect(records.map((e) => [e.deviceId, e.municipality, e.kind, e.source, e.payload])).toEqual(
      expect.arrayContaining([
        ['meter-h1', 'kalamata', 'energy', 'http', native],
        ['truck-h1', 'mytilene', 'fleet', 'http', senml],
      ]),
    );
  });

  it('refuses with the status and reason: credentials, someone else\'s address, payload, size, rate', async () => {
    const ok = '{"energy_wh": 1}';
    const none = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', ok, {});
    expect([none.status, none.body.error]).toEqual([401, 'no_credentials']);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', ok, bearer('not-the-secret'));
    expect([wrong.status, wrong.body.error]).toEqual([401, 'bad_secret']);
    // Basic naming another device than the path's; the tracker's secret on the meter's path.
    expect((await post(gw, '/ingest/v1/kalamata/energy/meter-h1', ok, basic('truck-h1', tracker))).status).toBe(403);
    expect((await post(gw, '/ingest/v1/kalamata/energy/meter-h1', ok, bearer(tracker))).status).toBe(401);
    const elsewhere = await post(gw, '/ingest/v1/petroupoli/energy/meter-h1', ok, bearer(meter));
    expect([elsewhere.status, elsewhere.body.error]).toEqual([403, 'topic_not_own']);

    const bad = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', '{"energy_wh": "lots"}', bearer(meter));
    expect([bad.status, bad.body.error, bad.body.field]).toEqual([400, 'field_invalid', 'energy_wh']);
    const notJson = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', '{"energy_wh": 1', bearer(meter));
    expect([notJson.status, notJson.body.field]).toEqual([400, 'payload']);
    const future = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', `{"energy_wh": 1, "ts": ${Date.now() + 86_400_000}}`, bearer(meter));
    expect([future.status, future.body.field]).toEqual([400, 'ts']);

    const huge = await post(gw, '/ingest/v1/kalamata/energy/meter-h1', JSON.stringify({ energy_wh: 1, pad: 'x'.repeat(70_000) }), bearer(meter));
    expect([huge.status, huge.body.error]).toEqual([413, 'payload_too_large']);

    // Burst 3, 1 a second: the fourth quick request is told when to come back.
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await post(gw, '/ingest/v1/mytilene/fleet/truck-h1', `{"lat": 39.1, "lon": 26.5, "ts": ${Date.now() - i * 1000}}`, bearer(tracker));
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const refused = await gw.metrics.getSingleMetricAsString('gateway_publishes_total');
    expect(refused).toMatch(/result="refused",reason="rate_limited",kind="fleet",source="http"/);
  });
});

describe('HTTP ingest while Kafka is away', () => {
  afterAll(leaveKafkaRunning);

  it('spools, answers 503 once the spool is full too, and loses nothing it answered 202 for', async () => {
    expect(kafkaPid(), 'this test stops the Kafka that `npm run services -- up` started').toBeDefined();
    const gw = await startTestGateway({ BUS_SEND_TIMEOUT_MS: '500', SPOOL_MAX_BYTES: '4096', SPOOL_SEGMENT_BYTES: '1024', DEVICE_RATE_LIMIT: '1000', DEVICE_RATE_BURST: '1000' });
    const secret = await new DeviceRegistry(gw.registryPath).add({ municipality: 'orestiada', kind: 'energy', deviceId: 'meter-out' });
    await stopKafka();
    const answered = new Map<number, number>();
    for (let i = 0; i < 60 && ![...answered.values()].includes(503); i++) {
      const ts = 1795766400000 + i * 60_000;
      answered.set(ts, (await post(gw, '/ingest/v1/orestiada/energy/meter-out', `{"energy_wh": ${1000 + i}, "ts": ${ts}}`, bearer(secret))).status);
    }
    const statuses = [...answered.values()];
    console.log(`[http ingest, Kafka stopped] ${statuses.filter((s) => s === 202).length} × 202 (spooled), then ${statuses.filter((s) => s === 503).length} × 503`);
    expect(statuses).toContain(503);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
    await startKafka();
    await waitKafkaReady();
    await sleep(500);
    const accepted = [...answered].filter(([, s]) => s === 202).map(([ts]) => ts);
    let stored = new Set<number>();
    await waitUntil(
      async () => {
        const records = (await readTopic(testKafka(), gw.topic)).map((r) => rawEnvelopeSchema.parse(JSON.parse(r.value)));
        stored = new Set(records.map((e) => (JSON.parse(e.payload) as { ts: number }).ts));
        return accepted.every((ts) => stored.has(ts));
      },
      60_000,
      'every 202 in Kafka',
    ).catch(() => undefined);
    expect(accepted.filter((ts) => !stored.has(ts))).toEqual([]);
    await gw.close();
  });
});
