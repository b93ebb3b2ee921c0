import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../registry/device-record.ts';
import { REJECTION_CODES } from '../schemas/rejections.ts';
import { checkEdgeRecord } from './intake-check.ts';
import { edgeStatusKey } from './status.ts';

const device = (id: string, municipality: string, kind: DeviceRecord['kind'] = 'energy'): DeviceRecord => ({ id, municipality, kind, secretHash: 'x', createdAt: '2026-12-07T00:00:00Z', attributes: {} });
const DEVICES = new Map([device('kal-meter-1', 'kalamata'), device('myt-meter-1', 'mytilene'), { ...device('kal-meter-old', 'kalamata'), revokedAt: '2026-12-07T01:00:00Z' }].map((d) => [d.id, d]));
const deviceOf = (id: string) => DEVICES.get(id);
const envelope = (o: Partial<Record<string, unknown>> = {}) => JSON.stringify({ gatewayId: 'kal-edge', receivedAt: 1_765_000_000_000, municipality: 'kalamata', kind: 'energy', deviceId: 'kal-meter-1', payload: '{"energy_wh":1}', ...o });
const check = (key: string | undefined, value: string, scope = ['kalamata']) => checkEdgeRecord({ edgeId: 'kal-edge', scope, key, value }, deviceOf);

describe('the edge intake check', () => {
  it("passes on its own town's registered device's envelope, a revoked one's too (accepted before the revocation reached the edge)", () => {
    expect(check('kal-meter-1', envelope())).toMatchObject({ verdict: 'forward', envelope: { deviceId: 'kal-meter-1', municipality: 'kalamata' } });
    expect(check('kal-meter-old', envelope({ deviceId: 'kal-meter-old' })).verdict).toBe('forward');
  });

  it("refuses another municipality's reading, naming the edge and both towns", () => {
    const v = check('myt-meter-1', envelope({ municipality: 'mytilene', deviceId: 'myt-meter-1' }));
    expect(v).toMatchObject({ verdict: 'refuse', rejection: { code: 'edge_scope', field: 'envelope.municipality', reason: "edge 'kal-edge' may send kalamata's readings, not mytilene's" } });
  });

  it("refuses another town's device claimed as its own town's, and a kind the registry does not give it", () => {
    expect(check('myt-meter-1', envelope({ deviceId: 'myt-meter-1' }))).toMatchObject({ verdict: 'refuse', rejection: { code: 'edge_scope', field: 'envelope.deviceId', reason: "device 'myt-meter-1' is mytilene's energy device, not kalamata's energy" } });
    expect(check('kal-meter-1', envelope({ kind: 'parking' }))).toMatchObject({ verdict: 'refuse', rejection: { code: 'edge_scope' } });
  });

  it('refuses an unknown device, a key that is not the device, another gateway id, a broken envelope', () => {
    expect(check('kal-meter-9', envelope({ deviceId: 'kal-meter-9' }))).toMatchObject({ rejection: { code: 'unknown_device' } });
    expect(check('kal-meter-2', envelope())).toMatchObject({ rejection: { code: 'device_mismatch', field: 'key' } });
    expect(check('kal-meter-1', envelope({ gatewayId: 'central-1' }))).toMatchObject({ rejection: { code: 'edge_scope', field: 'envelope.gatewayId' } });
    expect(check('kal-meter-1', '{"gatewayId":')).toMatchObject({ rejection: { code: 'envelope_invalid' } });
    expect(check('kal-meter-1', envelope({ municipality: 'Kalamata!' }))).toMatchObject({ rejection: { code: 'envelope_invalid', field: 'envelope' } });
  });

  it("takes an edge's status from its own topic only", () => {
    const status = { edgeId: 'kal-edge', at: 1, direct: false, spoolBytes: 10, spoolRecords: 1, oldestUnsentAt: 1, since: 1 };
    expect(check(edgeStatusKey('kal-edge'), JSON.stringify(status))).toEqual({ verdict: 'status', status });
    expect(check(edgeStatusKey('myt-edge'), JSON.stringify({ ...status, edgeId: 'myt-edge' }))).toMatchObject({ rejection: { code: 'edge_scope' } });
    expect(check(edgeStatusKey('kal-edge'), JSON.stringify({ ...status, spoolBytes: -1 }))).toMatchObject({ rejection: { code: 'envelope_invalid', field: 'status' } });
  });

  it("passes on the edge's own dead letters of its towns only", () => {
    const letter = (o: Record<string, unknown>) => JSON.stringify({ stage: 'ingest', code: 'unknown_device', field: 'devEui', reason: 'r', rejections: [], rejectionCount: 1, source: { listener: 'chirpstack' }, original: '{}', at: '2026-12-07T00:00:00Z', ...o });
    expect(check('deadletter:unknown', letter({}))).toEqual({ verdict: 'deadletter', key: 'unknown' });
    expect(check('deadletter:kal-meter-1', letter({ deviceId: 'kal-meter-1', municipality: 'kalamata' }))).toEqual({ verdict: 'deadletter', key: 'kal-meter-1' });
    expect(check('deadletter:x', letter({ municipality: 'mytilene' }))).toMatchObject({ rejection: { code: 'edge_scope', field: 'deadletter.municipality' } });
    expect(check('deadletter:x', letter({ deviceId: 'myt-meter-1' }))).toMatchObject({ rejection: { code: 'edge_scope', field: 'deadletter.deviceId' } });
    expect(check('deadletter:x', '{}')).toMatchObject({ rejection: { code: 'envelope_invalid', field: 'deadletter' } });
  });

  it('any key and value gives a verdict, never a throw; nothing out of scope is ever passed on', () => {
    const value = fc.oneof(
      fc.string(),
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc
        .record({ gatewayId: fc.constantFrom('kal-edge', 'x'), municipality: fc.constantFrom('kalamata', 'mytilene', '__proto__'), deviceId: fc.constantFrom('kal-meter-1', 'myt-meter-1', 'constructor'), kind: fc.constantFrom('energy', 'fleet'), receivedAt: fc.integer(), payload: fc.string() }, { requiredKeys: [] })
        .map((o) => JSON.stringify(o)),
    );
    const key = fc.option(fc.oneof(fc.string(), fc.constantFrom('kal-meter-1', 'myt-meter-1', edgeStatusKey('kal-edge'), 'deadletter:x', '__proto__')), { nil: undefined });
    fc.assert(
      fc.property(key, value, (k, v) => {
        const r = check(k, v);
        if (r.verdict === 'refuse') expect(REJECTION_CODES).toContain(r.rejection.code);
        if (r.verdict === 'forward') expect([r.envelope.municipality, deviceOf(r.envelope.deviceId)?.municipality]).toEqual(['kalamata', 'kalamata']);
      }),
      { numRuns: 2000 },
    );
  });
});
