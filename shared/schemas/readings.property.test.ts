/** The per-kind check gives the canonical schema's verdict (and its issues) for any input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalReadingSchema, decodeNormalizedRecord, normalizedMessageSchema, parseCanonicalReading, parseNormalizedMessage, readingsOf, toNormalizedMessage } from './readings.ts';

const valid = {
  energy: { energy_wh: 12.5, power_w: 3, voltage_v: 230 },
  fleet: { lat: 38, lon: 23.7, speed_kmh: 40, ignition: true },
  parking: { occupied: false },
};
const anyValue = fc.oneof(fc.jsonValue(), fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -1, 2 ** 60));
/** Readings of every kind, valid or with any field replaced, dropped or added. */
const candidate = fc
  .record({
    kind: fc.oneof(fc.constantFrom('energy', 'fleet', 'parking', 'toString', '__proto__', 'hasOwnProperty', ''), anyValue),
    replace: fc.dictionary(fc.constantFrom('deviceId', 'municipality', 'ts', 'tsFromGateway', 'receivedAt', 'gatewayId', 'attrs', 'values', 'extra'), anyValue, { maxKeys: 3 }),
    values: fc.option(fc.dictionary(fc.constantFrom('energy_wh', 'lat', 'lon', 'occupied', 'fuel_pct', 'x'), anyValue, { maxKeys: 3 }), { nil: undefined }),
  })
  .map(({ kind, replace, values }) => {
    const own = typeof kind === 'string' && kind in valid ? valid[kind as keyof typeof valid] : {};
    return { deviceId: 'ath-1', municipality: 'athens', ts: 1_764_200_000_000, tsFromGateway: false, receivedAt: 1_764_200_000_100, gatewayId: 'gw', attrs: { district: 'plaka', capacity: 3 }, kind, values: { ...own, ...values }, ...replace };
  });

describe('parseCanonicalReading', () => {
  it('agrees with the canonical schema on every input: verdict, data and issues', () => {
    fc.assert(
      fc.property(fc.oneof(candidate, anyValue), (raw) => {
        const fast = parseCanonicalReading(raw);
        const reference = canonicalReadingSchema.safeParse(raw);
        expect(fast.success).toBe(reference.success);
        if (reference.success) expect(fast.data).toEqual(reference.data);
        else expect(fast.error?.issues).toEqual(reference.error.issues);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts a reading of each kind', () => {
    for (const kind of ['energy', 'fleet', 'parking'] as const) {
      expect(parseCanonicalReading({ deviceId: 'ath-1', municipality: 'athens', ts: 1, tsFromGateway: true, receivedAt: 2, gatewayId: 'gw', attrs: {}, kind, values: valid[kind] }).success).toBe(true);
    }
  });
});

describe('the normalised message (a telemetry.normalized record)', () => {
  // JSON has no -0: the bus carries it as 0, so the readings compared start without it.
  const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true }).map((x) => (x === 0 ? 0 : x));
  const reading = fc.record({ ts: fc.integer({ min: 0, max: 4_102_444_800_000 }), tsFromGateway: fc.boolean(), energy_wh: finite(0, 1e9), power_w: fc.option(finite(-1e6, 1e6), { nil: undefined }) });

  it('round-trips any readings of one device: the message carries them in order and serialises the same every time', () => {
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 20 }), (rs) => {
        const readings = rs.map((r) => ({ kind: 'energy' as const, deviceId: 'kal-1', municipality: 'kalamata', ts: r.ts, tsFromGateway: r.tsFromGateway, receivedAt: 1_764_200_000_100, gatewayId: 'gw', attrs: { district: 'a' }, values: { energy_wh: r.energy_wh, ...(r.power_w === undefined ? {} : { power_w: r.power_w }) } }));
        const m = toNormalizedMessage(readings);
        const json = JSON.stringify(m);
        const parsed = parseNormalizedMessage(JSON.parse(json));
        expect(parsed.success).toBe(true);
        expect(readingsOf(parsed.data!)).toEqual(readings);
        expect(JSON.stringify(toNormalizedMessage(readingsOf(parsed.data!)))).toBe(json);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the schema on any input, and never throws', () => {
    const candidate = fc.record({ kind: fc.oneof(fc.constantFrom('energy', 'fleet', 'parking', '__proto__'), anyValue), deviceId: fc.oneof(fc.constant('kal-1'), anyValue), municipality: fc.constant('kalamata'), receivedAt: fc.oneof(fc.constant(5), anyValue), gatewayId: fc.constant('gw'), attrs: fc.constant({}), readings: fc.oneof(fc.constant([]), fc.array(fc.record({ ts: fc.oneof(fc.nat(), anyValue), tsFromGateway: fc.boolean(), values: fc.constant(valid.energy) }), { maxLength: 3 }), anyValue) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(candidate, anyValue), (raw) => {
        const fast = parseNormalizedMessage(raw);
        const reference = normalizedMessageSchema.safeParse(raw);
        expect(fast.success).toBe(reference.success);
      }),
      { numRuns: 2000 },
    );
  });

  describe("the stages' check of a record (decodeNormalizedRecord)", () => {
    /** A message of each kind, valid or with any field of it, or of one of its readings, replaced. */
    const messages = fc
      .record({
        kind: fc.oneof(fc.constantFrom('energy', 'fleet', 'parking', '__proto__', 'toString'), anyValue),
        replace: fc.dictionary(fc.constantFrom('deviceId', 'municipality', 'receivedAt', 'gatewayId', 'attrs', 'readings', 'extra'), anyValue, { maxKeys: 2 }),
        reading: fc.dictionary(fc.constantFrom('ts', 'tsFromGateway', 'values'), anyValue, { maxKeys: 2 }),
        values: fc.dictionary(fc.constantFrom('energy_wh', 'lat', 'lon', 'occupied', 'private_use', 'x'), anyValue, { maxKeys: 2 }),
        count: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ kind, replace, reading, values, count }) => {
        const own = typeof kind === 'string' && kind in valid ? valid[kind as keyof typeof valid] : {};
        const readings = Array.from({ length: count }, (_, i) => ({ ts: 1_764_200_000_000 + i, tsFromGateway: false, values: { ...own, ...(i === 0 ? values : {}) }, ...(i === count - 1 ? reading : {}) }));
        return { kind, deviceId: 'kal-1', municipality: 'kalamata', receivedAt: 1_764_200_000_100, gatewayId: 'gw', attrs: { district: 'a' }, readings, ...replace };
      });
    const bytes = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'undefined');

    it('accepts every message the schema accepts (as the normaliser writes it: its fields only), with the same readings', () => {
      fc.assert(
        fc.property(messages, (m) => {
          const reference = normalizedMessageSchema.safeParse(JSON.parse(bytes(m).toString()));
          if (!reference.success) return;
          const decoded = decodeNormalizedRecord(bytes(reference.data));
          expect(decoded.ok).toBe(true);
          if (decoded.ok) expect(readingsOf(decoded.message)).toEqual(readingsOf(reference.data));
        }),
        { numRuns: 3000 },
      );
    });

    it('for any bytes, returns a message whose readings the stages can store and aggregate, or the field it fails on; never throws', () => {
      const anyBytes = fc.oneof(
        messages.map(bytes),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map(bytes),
      );
      fc.assert(
        fc.property(anyBytes, (b) => {
          const decoded = decodeNormalizedRecord(b);
          if (!decoded.ok) {
            expect(decoded.field.length).toBeGreaterThan(0);
            expect(decoded.reason.length).toBeGreaterThan(0);
            return;
          }
          const readings = readingsOf(decoded.message);
          expect(readings.length).toBeGreaterThan(0);
          for (const r of readings) {
            expect(['energy', 'fleet', 'parking']).toContain(r.kind);
            expect('lat' in r.values).toBe('lon' in r.values);
            expect(Number.isFinite(r.ts)).toBe(true);
            for (const v of Object.values(r.values)) expect(typeof v === 'boolean' || Number.isFinite(v)).toBe(true);
          }
        }),
        { numRuns: 3000 },
      );
    });

    it('names the field a record fails on', () => {
      const ok = { kind: 'energy', deviceId: 'kal-1', municipality: 'kalamata', receivedAt: 5, gatewayId: 'gw', attrs: {}, readings: [{ ts: 1, tsFromGateway: false, values: { energy_wh: 1 } }] };
      expect(decodeNormalizedRecord(bytes(ok)).ok).toBe(true);
      expect(decodeNormalizedRecord(Buffer.from('{"kind":'))).toEqual({ ok: false, field: '(record)', reason: 'not JSON' });
      expect(decodeNormalizedRecord(bytes({ ...ok, kind: 'toString' }))).toMatchObject({ field: 'kind' });
      expect(decodeNormalizedRecord(bytes({ ...ok, readings: [] }))).toMatchObject({ field: 'readings' });
      expect(decodeNormalizedRecord(bytes({ ...ok, readings: [{ ts: 1, tsFromGateway: false, values: { energy_wh: 'x' } }] }))).toMatchObject({ field: 'readings.0.values.energy_wh' });
      expect(decodeNormalizedRecord(bytes({ ...ok, readings: [{ ts: 1, tsFromGateway: false, values: { power_w: 3 } }] }))).toMatchObject({ field: 'readings.0.values', reason: 'has none of energy_wh' });
      expect(decodeNormalizedRecord(bytes({ ...ok, kind: 'fleet', readings: [{ ts: 1, tsFromGateway: false, values: { lat: 38 } }] }))).toMatchObject({ field: 'readings.0.values', reason: 'has one coordinate of a position' });
    });
  });
});
