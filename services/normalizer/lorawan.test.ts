/**
 * LoRaWAN uplinks in the formats the network servers document (ChirpStack v4 `event/up`, The
 * Things Stack v3 `uplink_message`), through the normaliser's core; and, for any input, a reading
 * or a rejection naming the field — never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../shared/schemas/rejections.ts';
import { uplinkReading } from './lorawan.ts';
import { normalizeRecord, type NormalizeOptions } from './normalize.ts';

const receivedAt = Date.UTC(2026, 10, 27, 12);
const opts: NormalizeOptions = { maxFutureMs: 15 * 60_000, attributesOf: () => ({}) };
const envelope = (source: string, kind: string, payload: unknown) =>
  JSON.stringify({ gatewayId: 'gw', receivedAt, municipality: 'kalamata', kind, deviceId: 'bay-7', payload: JSON.stringify(payload), source });

/** A ChirpStack v4 uplink event (JSON marshaling of integration.UplinkEvent; proto3 leaves out fCnt 0). */
const chirpstackUp = (object: unknown, time: string | null = '2026-11-27T11:58:03.112Z') => ({
  deduplicationId: '3ee4e5a2-4e59-4b0b-8a4d-3f2c1b2a9d10',
  ...(time ? { time } : {}),
  deviceInfo: { tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', tenantName: 'Kalamata', applicationId: 'ca739e26-7b67-4f14-b69e-d568c22a5a75', applicationName: 'parking', deviceProfileName: 'bay sensor', deviceName: 'bay-7', devEui: '0101010101010101', tags: {} },
  devAddr: '00189440',
  adr: true,
  dr: 5,
  fPort: 1,
  confirmed: false,
  data: 'AQ==',
  ...(object === undefined ? {} : { object }),
  rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, context: 'E3OWOQ==', metadata: { region_common_name: 'EU868' } }],
  txInfo: { frequency: 867100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
});

/** A The Things Stack v3 webhook uplink message. */
const ttsUp = (decoded: unknown) => ({
  end_device_ids: { device_id: 'meter-12', application_ids: { application_id: 'kalamata-energy' }, dev_eui: '70B3D57ED0000001', dev_addr: '260B1234' },
  correlation_ids: ['as:up:01H0…'],
  received_at: '2026-11-27T11:58:03.500Z',
  uplink_message: {
    f_port: 2,
    f_cnt: 1042,
    frm_payload: 'AAAA',
    ...(decoded === undefined ? {} : { decoded_payload: decoded }),
    rx_metadata: [{ gateway_ids: { gateway_id: 'gw-kal-1' }, rssi: -91, snr: 7.2 }],
    received_at: '2026-11-27T11:58:03.412Z',
  },
});

describe('LoRaWAN uplinks', () => {
  it('reads a ChirpStack v4 parking event: occupancy (0/1 from the codec) at the event time', () => {
    const out = normalizeRecord(envelope('chirpstack', 'parking', chirpstackUp({ occupied: 1, battery: 3.6 })), opts);
    expect(out.rejections).toEqual([]);
    expect(out.readings.map((r) => [r.deviceId, r.ts, r.values])).toEqual([['bay-7', Date.parse('2026-11-27T11:58:03.112Z'), { occupied: true }]]);
  });

  it('takes the gateway time when ChirpStack leaves the time out, and maps names per kind', () => {
    const up = chirpstackUp({ carStatus: 0 }, null);
    const out = normalizeRecord(envelope('chirpstack', 'parking', up), { ...opts, fieldMap: { parking: { occupied: 'carStatus' } } });
    expect(out.readings.map((r) => [r.ts, r.values, r.tsFromGateway])).toEqual([[receivedAt, { occupied: false }, true]]);
  });

  it('reads a The Things Stack energy meter and a GPS tracker from decoded_payload at received_at', () => {
    const energy = normalizeRecord(envelope('tts', 'energy', ttsUp({ energy_wh: 123456.5, power_w: 980 })), opts);
    expect(energy.readings.map((r) => [r.ts, r.values])).toEqual([[Date.parse('2026-11-27T11:58:03.412Z'), { energy_wh: 123456.5, power_w: 980 }]]);
    const fleet = normalizeRecord(envelope('tts', 'fleet', ttsUp({ lat: 37.04, lon: 22.11, speed_kmh: 32 })), opts);
    expect(fleet.readings.map((r) => r.values)).toEqual([{ lat: 37.04, lon: 22.11, speed_kmh: 32 }]);
  });

  it('rejects an undecoded uplink, naming where the decoded object should be', () => {
    const undecoded = normalizeRecord(envelope('chirpstack', 'parking', chirpstackUp(undefined)), opts).rejections;
    expect(undecoded).toHaveLength(1);
    expect(undecoded[0]).toMatchObject({ code: 'field_invalid', field: 'payload.object' });
    expect(undecoded[0]!.reason).toContain('not decoded');
    expect(normalizeRecord(envelope('tts', 'energy', ttsUp(undefined)), opts).rejections[0]).toMatchObject({ field: 'payload.uplink_message.decoded_payload' });
    // Decoded, but without the kind's measurement.
    expect(normalizeRecord(envelope('tts', 'energy', ttsUp({ temperature: 21 })), opts).rejections[0]).toMatchObject({ code: 'field_invalid', field: 'energy_wh' });
  });

  it('answers every input with a reading or a rejection naming a field, and never throws', () => {
    const decoded = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('occupied', 'energy_wh', 'lat', 'lon', '__proto__', 'constructor', 'carStatus'), fc.jsonValue()));
    const body = fc.oneof(
      fc.jsonValue(),
      decoded.map((o) => chirpstackUp(o)),
      decoded.map((o) => ttsUp(o)),
      fc.record({ object: decoded, time: fc.oneof(fc.string(), fc.double(), fc.constant(null)) }),
      fc.record({ uplink_message: fc.record({ decoded_payload: decoded, received_at: fc.jsonValue() }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom<'tts' | 'chirpstack'>('tts', 'chirpstack'), fc.constantFrom<'energy' | 'fleet' | 'parking'>('energy', 'fleet', 'parking'), body, (source, kind, b) => {
        const direct = uplinkReading(source, b, kind, { parking: { occupied: 'carStatus' } });
        if (!direct.ok) expect(direct.rejection.field).toMatch(/^payload/);
        const out = normalizeRecord(envelope(source, kind, b), opts);
        expect(out.readings.length + out.rejections.length).toBeGreaterThan(0);
        for (const r of out.rejections) {
          expect(REJECTION_CODES).toContain(r.code);
          expect(r.field.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
