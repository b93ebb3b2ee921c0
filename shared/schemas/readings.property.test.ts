/** The per-kind check gives the canonical schema's verdict (and its issues) for any input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalReadingSchema, parseCanonicalReading } from './readings.ts';

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
