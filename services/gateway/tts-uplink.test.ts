/** Which device a The Things Stack uplink belongs to: DevEUI and device id must agree; applications confined to municipalities; total. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../shared/registry/device-registry.ts';
import { REJECTION_CODES } from '../../shared/schemas/rejections.ts';
import { routeTtsUplink } from './tts-uplink.ts';

const device = (id: string, municipality: string, devEui?: string): DeviceRecord => ({ id, municipality, kind: 'parking', secretHash: 'x', createdAt: '2026-01-01', attributes: {}, ...(devEui ? { devEui } : {}) });
const bay = device('bay-1', 'kalamata', '0101010101010101');
const other = device('bay-2', 'mytilene', '0202020202020202');
const plain = device('meter-1', 'kalamata');
const all = [bay, other, plain];
const registry = { byDevEui: (eui: string) => all.find((d) => d.devEui === eui.toLowerCase()), active: (id: string) => all.find((d) => d.id === id) };
const uplink = (ids: Record<string, unknown>, app = 'kal-sensors') => ({ end_device_ids: { ...ids, application_ids: { application_id: app } }, uplink_message: { decoded_payload: { occupied: 1 } } });
const MAP = { 'kal-sensors': 'kalamata', 'myt-sensors': 'mytilene' };

describe('routeTtsUplink', () => {
  it('takes the device of the DevEUI, whatever TTS calls it', () => {
    expect(routeTtsUplink(uplink({ dev_eui: '0101010101010101', device_id: 'eui-0101010101010101' }), registry, {})).toEqual({ ok: true, device: bay });
    expect(routeTtsUplink(uplink({ dev_eui: '0101010101010101', device_id: 'bay-1' }), registry, MAP)).toEqual({ ok: true, device: bay });
  });

  it('refuses an event whose device id names another registered device than its DevEUI', () => {
    const r = routeTtsUplink(uplink({ dev_eui: '0101010101010101', device_id: 'bay-2' }), registry, {});
    expect(r).toMatchObject({ ok: false, deviceId: 'bay-1', rejection: { code: 'device_mismatch', field: 'end_device_ids.device_id' } });
    // An unknown DevEUI never falls back to the device id.
    expect(routeTtsUplink(uplink({ dev_eui: 'ffffffffffffffff', device_id: 'bay-1' }), registry, MAP)).toMatchObject({ ok: false, rejection: { code: 'unknown_device' } });
  });

  it('finds a device by its TTS device id only under an application map, and only one without a DevEUI', () => {
    expect(routeTtsUplink(uplink({ device_id: 'meter-1' }), registry, {})).toMatchObject({ ok: false, rejection: { code: 'unknown_device', field: 'end_device_ids.dev_eui' } });
    expect(routeTtsUplink(uplink({ device_id: 'meter-1' }), registry, MAP)).toEqual({ ok: true, device: plain });
    expect(routeTtsUplink(uplink({ device_id: 'bay-1' }), registry, MAP)).toMatchObject({ ok: false, rejection: { code: 'device_mismatch' } });
  });

  it("confines each application to its municipality when the map is set", () => {
    expect(routeTtsUplink(uplink({ device_id: 'meter-1' }, 'myt-sensors'), registry, MAP)).toMatchObject({ ok: false, deviceId: 'meter-1', rejection: { code: 'tenant_mismatch' } });
    expect(routeTtsUplink(uplink({ dev_eui: '0202020202020202' }, 'kal-sensors'), registry, MAP)).toMatchObject({ ok: false, rejection: { code: 'tenant_mismatch' } });
    expect(routeTtsUplink(uplink({ dev_eui: '0202020202020202' }, 'unknown-app'), registry, MAP)).toMatchObject({ ok: false, rejection: { code: 'tenant_mismatch' } });
  });

  it('refuses 30 kB identifiers with a bounded reason', () => {
    const huge = 'x'.repeat(30_000);
    for (const ids of [{ dev_eui: huge }, { device_id: huge }, { dev_eui: '0101010101010101', device_id: huge }]) {
      const r = routeTtsUplink(uplink(ids), registry, MAP);
      expect(r).toMatchObject({ ok: false, rejection: { code: 'identifier_invalid' } });
      if (!r.ok) expect(r.rejection.reason.length).toBeLessThan(200);
    }
  });

  it('answers any body with a device or a bounded rejection naming a field, and never throws', () => {
    const ids = fc.record({ dev_eui: fc.oneof(fc.constantFrom('0101010101010101', '0202020202020202'), fc.string(), fc.jsonValue()), device_id: fc.oneof(fc.constantFrom('bay-1', 'bay-2', 'meter-1', '__proto__'), fc.string(), fc.jsonValue()), application_ids: fc.oneof(fc.record({ application_id: fc.oneof(fc.constantFrom('kal-sensors', 'myt-sensors', '__proto__'), fc.jsonValue()) }), fc.jsonValue()) }, { requiredKeys: [] });
    const body = fc.oneof(fc.jsonValue(), fc.record({ end_device_ids: fc.oneof(ids, fc.jsonValue()) }));
    fc.assert(
      fc.property(body, fc.constantFrom({}, MAP), (b, map) => {
        const r = routeTtsUplink(b, registry, map);
        if (r.ok) {
          expect(all).toContain(r.device);
        } else {
          expect(REJECTION_CODES).toContain(r.rejection.code);
          expect(r.rejection.field.length).toBeGreaterThan(0);
          expect(r.rejection.reason.length).toBeLessThan(400);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
