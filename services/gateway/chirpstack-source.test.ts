/** Which device a ChirpStack uplink event belongs to: by DevEUI, checked against the tenant map; total on any input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../shared/registry/device-registry.ts';
import { REJECTION_CODES } from '../../shared/schemas/rejections.ts';
import { routeUplink } from './chirpstack-source.ts';

const bay: DeviceRecord = { id: 'bay-1', municipality: 'kalamata', kind: 'parking', secretHash: 'x', createdAt: '2026-01-01', attributes: {}, devEui: '0101010101010101' };
const registry = { byDevEui: (eui: string) => (eui.toLowerCase() === bay.devEui ? bay : undefined) };
const topic = 'application/app-1/device/0101010101010101/event/up';
const event = (o: Record<string, unknown>) => Buffer.from(JSON.stringify({ deduplicationId: 'd-1', time: '2026-11-27T10:00:00Z', object: { occupied: 1 }, ...o }));

describe('routeUplink', () => {
  it('finds the device by deviceInfo.devEui in any case, and checks the tenant when a map is set', () => {
    const ok = routeUplink(event({ deviceInfo: { devEui: '0101010101010101', tenantName: 'Kalamata' } }), topic, registry, {});
    expect(ok).toEqual({ ok: true, device: bay, dedupId: 'd-1' });
    expect(routeUplink(event({ deviceInfo: { devEui: '0101010101010101'.toUpperCase(), tenantId: 't-kal' } }), topic, registry, { 't-kal': 'kalamata' }).ok).toBe(true);
    const foreign = routeUplink(event({ deviceInfo: { devEui: '0101010101010101', tenantName: 'Mytilene' } }), topic, registry, { Mytilene: 'mytilene' });
    expect(foreign).toMatchObject({ ok: false, deviceId: 'bay-1', rejection: { code: 'tenant_mismatch', field: 'deviceInfo.tenantId' } });
    expect(routeUplink(event({ deviceInfo: { devEui: 'ffffffffffffffff' } }), topic, registry, {})).toMatchObject({ ok: false, rejection: { code: 'unknown_device' } });
    // The DevEUI from the topic when the event leaves deviceInfo out.
    expect(routeUplink(event({}), topic, registry, {}).ok).toBe(true);
    expect(routeUplink(Buffer.from('\u0001\u0002'), topic, registry, {})).toMatchObject({ ok: false, rejection: { code: 'payload_not_json' } });
  });

  it('refuses identifiers no registered device can have, with a reason that shows only a bounded part of them', () => {
    const huge = 'f'.repeat(30_000);
    for (const deviceInfo of [{ devEui: huge }, { devEui: '0101010101010101', tenantName: huge }, { devEui: 42 }]) {
      const r = routeUplink(event({ deviceInfo }), topic, registry, { Kalamata: 'kalamata' });
      expect(r).toMatchObject({ ok: false, rejection: { code: 'identifier_invalid' } });
      if (!r.ok) expect(r.rejection.reason.length).toBeLessThan(200);
    }
  });

  it('answers any payload and topic with a device or a rejection naming a field, and never throws', () => {
    const info = fc.record({ devEui: fc.oneof(fc.constant('0101010101010101'), fc.string(), fc.jsonValue()), tenantId: fc.jsonValue(), tenantName: fc.oneof(fc.constantFrom('Kalamata', '__proto__', 'constructor'), fc.string()) }, { requiredKeys: [] });
    const body = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ deviceInfo: fc.oneof(info, fc.jsonValue()), deduplicationId: fc.jsonValue() }).map((v) => JSON.stringify(v)), fc.string());
    fc.assert(
      fc.property(body, fc.oneof(fc.constant(topic), fc.string()), fc.constantFrom({}, { Kalamata: 'kalamata' }, { __proto__: 'x' }), (b, t, tenants) => {
        const r = routeUplink(Buffer.from(b), t, registry, tenants as Record<string, string>);
        if (!r.ok) {
          expect(REJECTION_CODES).toContain(r.rejection.code);
          expect(r.rejection.field.length).toBeGreaterThan(0);
          expect(r.rejection.reason.length).toBeLessThan(400); // never echoes unbounded input
        } else expect(r.device).toBe(bay);
      }),
      { numRuns: 3000 },
    );
  });
});
