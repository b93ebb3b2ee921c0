/** Property-based tests: for any input the normaliser's parsers return readings or rejections naming a field, and never throw. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../shared/schemas/rejections.ts';
import { normalizeRecord, type NormalizeOptions } from './normalize.ts';
import { senmlToReadings } from './senml.ts';

const receivedAt = Date.UTC(2026, 10, 25, 12);
const opts: NormalizeOptions = { maxFutureMs: 15 * 60_000, maxReadings: 50, attributesOf: () => ({ district: 'kentro' }) };
const envelope = (kind: string, payload: string) => JSON.stringify({ gatewayId: 'gw', receivedAt, municipality: 'kalamata', kind, deviceId: 'kal-1', payload });

/** Values a careless or hostile device might put in a field. */
const nasty = fc.oneof(
  fc.double(),
  fc.constantFrom(Number("1795766273828704700"), 1e300, -1e300, 1e16, Number.MAX_VALUE, -0, 2 ** 28),
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'toString', '2026-02-30T10:00:00Z', '9999-12-31T23:59:59Z', ''),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue(),
);
const fieldNames = fc.constantFrom('ts', 'energy_wh', 'power_w', 'voltage_v', 'lat', 'lon', 'speed_kmh', 'heading_deg', 'ignition', 'fuel_pct', 'occupied', '__proto__', 'constructor');
const reading = fc.dictionary(fieldNames, nasty, { maxKeys: 6 });
const senmlRecord = fc.record(
  {
    bn: fc.oneof(fc.constant('urn:dev:id:kal-1:'), fc.string()),
    bt: nasty,
    bu: fc.oneof(fc.constantFrom('Wh', 'kWh', 'constructor', '__proto__'), fc.string()),
    bv: nasty,
    n: fc.oneof(fc.constantFrom('energy', 'power', 'lat', 'lon', 'occupied', 'ignition', 'constructor', '__proto__', 'hasOwnProperty'), fc.string()),
    u: fc.oneof(fc.constantFrom('W', 'kW', 'm/s', 'rad', '%', '/', 'toString', 'constructor'), fc.string()),
    t: nasty,
    v: nasty,
    vb: nasty,
  },
  { requiredKeys: [] },
);
const payloads = fc.oneof(
  reading.map((r) => JSON.stringify(r)),
  fc.array(reading, { maxLength: 80 }).map((a) => JSON.stringify(a)),
  fc.array(senmlRecord, { minLength: 1, maxLength: 20 }).map((a) => JSON.stringify(a)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);

function checkResult(r: ReturnType<typeof normalizeRecord>) {
  for (const rej of r.rejections) {
    expect(REJECTION_CODES).toContain(rej.code);
    expect(rej.field.length).toBeGreaterThan(0);
    expect(rej.reason.length).toBeGreaterThan(3);
  }
  for (const x of r.readings) {
    expect(Number.isSafeInteger(x.ts)).toBe(true);
    expect(x.ts).toBeLessThanOrEqual(receivedAt + opts.maxFutureMs);
    for (const v of Object.values(x.values)) expect(typeof v === 'boolean' || Number.isFinite(v)).toBe(true);
    // Every accepted reading can be written out and read back: nothing downstream can throw on it.
    expect(() => new Date(x.ts).toISOString()).not.toThrow();
  }
  expect(r.readings.length).toBeLessThanOrEqual(opts.maxReadings!);
}

describe('normalizeRecord (property-based)', () => {
  it.each(['energy', 'fleet', 'parking'])('never throws on any %s payload, and answers readings or rejections naming a field', (kind) => {
    fc.assert(
      fc.property(payloads, (payload) => {
        const r = normalizeRecord(envelope(kind, payload), opts);
        expect(r.readings.length + r.rejections.length).toBeGreaterThan(0);
        checkResult(r);
      }),
      { numRuns: 1500 },
    );
  });

  it('never throws on any raw record value (a broken envelope included)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1'))), (value) => {
        checkResult(normalizeRecord(value, opts));
      }),
      { numRuns: 1500 },
    );
  });

  it('rejects an over-long array whole, with one rejection, whatever it holds', () => {
    const r = normalizeRecord(envelope('energy', JSON.stringify(new Array(32_700).fill(0))), opts);
    expect(r.readings).toEqual([]);
    expect(r.rejections).toEqual([{ code: 'payload_too_many_readings', field: 'payload', reason: 'payload: 32700 readings, more than 50 in one message' }]);
  });
});

describe('senmlToReadings (property-based)', () => {
  it('never throws; records named after Object members are ignored or refused, not executed', () => {
    fc.assert(
      fc.property(fc.array(senmlRecord, { minLength: 1, maxLength: 30 }), (records) => {
        const r = senmlToReadings(records, receivedAt);
        if (!r.ok) expect(r.rejection.reason).toMatch(/^payload: senml\[\d+\]/);
        else for (const x of r.readings) for (const k of Object.keys(x)) expect(['ts', 'energy_wh', 'power_w', 'voltage_v', 'lat', 'lon', 'speed_kmh', 'heading_deg', 'fuel_pct', 'ignition', 'occupied']).toContain(k);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a unit named after an Object member', () => {
    const r = senmlToReadings([{ bn: 'urn:dev:id:kal-1:', n: 'energy', u: 'constructor', v: 1 }], receivedAt);
    expect(r.ok).toBe(false);
    const s = senmlToReadings([{ bn: 'urn:dev:id:kal-1:', n: 'constructor', v: 1 }], receivedAt);
    expect(s).toMatchObject({ ok: true, readings: [{}] });
  });
});
