/**
 * Sources other than MQTT, end to end on the real Kafka and InfluxDB: a meter posting over HTTP
 * ingest, and The Things Stack's webhook delivering a parking sensor's and a GPS tracker's decoded
 * uplinks, reach the store as readings of the registered devices — at the times they carry, with
 * their municipalities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import type { StorePoint } from '../../shared/store/store.ts';
import { waitUntil } from '../support/gateway.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';

const TTS_SECRET = 'tts-webhook-secret-for-the-e2e';
const T0 = Date.parse('2026-11-27T10:00:00.000Z');

describe('device sources end to end', () => {
  let p: Pipeline;
  let meterSecret: string;
  beforeAll(async () => {
    p = await startPipeline({ extraEnv: { TTS_WEBHOOK_SECRET: TTS_SECRET } });
    const reg = new DeviceRegistry(p.gw.registryPath);
    meterSecret = await reg.add({ municipality: 'orestiada', kind: 'energy', deviceId: 'ore-meter-http' });
    await reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'kal-bay-lora' }, { lot: 'kalamata-lot-1' }, { devEui: 'A840410001810001' });
    await reg.add({ municipality: 'mytilene', kind: 'fleet', deviceId: 'myt-van-lora' }, {}, { devEui: 'a840410001810002' });
  });
  afterAll(() => p.close());

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${p.gw.gateway.httpIngestPort}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }).then((r) => r.status);
  const uplink = (devEui: string, at: number, decoded: Record<string, unknown>) => ({
    end_device_ids: { device_id: `tts-${devEui.toLowerCase()}`, dev_eui: devEui, application_ids: { application_id: 'municipal-sensors' } },
    received_at: new Date(at + 250).toISOString(),
    uplink_message: { f_port: 1, f_cnt: 3, frm_payload: 'AQ==', decoded_payload: decoded, received_at: new Date(at).toISOString() },
  });

  it('stores HTTP-ingest readings and TTS uplinks as readings of the registered devices', async () => {
    const statuses = [
      await post('/ingest/v1/orestiada/energy/ore-meter-http', [{ energy_wh: 100, ts: T0 }, { energy_wh: 160, power_w: 700, ts: T0 + 60_000 }], { authorization: `Bearer ${meterSecret}` }),
      await post('/ingest/tts/v3/uplink', uplink('A840410001810001', T0, { occupied: 1 }), { 'x-webhook-secret': TTS_SECRET }),
      await post('/ingest/tts/v3/uplink', uplink('A840410001810001', T0 + 300_000, { occupied: 0 }), { 'x-webhook-secret': TTS_SECRET }),
      await post('/ingest/tts/v3/uplink', uplink('A840410001810002', T0, { lat: 39.1, lon: 26.55, speed_kmh: 30 }), { 'x-webhook-secret': TTS_SECRET }),
    ];
    expect(statuses).toEqual([202, 202, 202, 202]);

    const points = (kind: string, device: string) => p.telemetry.devicePoints(kind, device, T0 - 3_600_000, T0 + 3_600_000);
    let got: StorePoint[][] = [];
    await waitUntil(
      async () => {
        got = await Promise.all([points('energy', 'ore-meter-http'), points('parking', 'kal-bay-lora'), points('fleet', 'myt-van-lora')]);
        return got[0]!.length === 2 && got[1]!.length === 2 && got[2]!.length === 1;
      },
      60_000,
      'the readings stored',
    ).catch(() => undefined);
    const [energy, parking, fleet] = got;
    expect(energy!.map((x) => [x.ts, x.fields.energy_wh, x.tags.municipality])).toEqual([
      [T0, 100, 'orestiada'],
      [T0 + 60_000, 160, 'orestiada'],
    ]);
    expect(parking!.map((x) => [x.ts, x.fields.occupied, x.tags.municipality, x.tags.lot])).toEqual([
      [T0, true, 'kalamata', 'kalamata-lot-1'],
      [T0 + 300_000, false, 'kalamata', 'kalamata-lot-1'],
    ]);
    expect(fleet!.map((x) => [x.ts, x.fields.lat, x.fields.lon, x.tags.municipality])).toEqual([[T0, 39.1, 26.55, 'mytilene']]);
  });
});
