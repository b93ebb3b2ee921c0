/** Property-based: any query string the API may receive parses to a valid range or a rejection naming the parameter, and never throws. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { energyQuery, healthQuery, rangeQuery, savingsQuery } from './params.ts';

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('2026-02-30', '2026-02-28', '2024-02-29', '9999-99-99', '2026-11-01T00:00:00Z', '2026-11-01T25:00:00Z', '1795766273828', '99999999999999', '-1', '', ' ', 'NaN', '1e300'),
  fc.integer().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const query = fc.dictionary(fc.constantFrom('from', 'to', 'format', 'interval', 'by', 'baselineFrom', 'baselineTo', 'silentMinutes', 'lookbackDays', 'other'), value, { maxKeys: 6 });

describe('KPI query parameters (property-based)', () => {
  it.each([
    ['range', rangeQuery],
    ['energy', energyQuery],
    ['savings', savingsQuery],
    ['health', healthQuery],
  ] as const)('%s: never throws; a success is a valid range, a failure names a parameter', (_name, schema) => {
    fc.assert(
      fc.property(query, (q) => {
        const r = schema.safeParse(q);
        if (r.success) {
          const v = r.data as { from?: number; to?: number };
          if (v.from !== undefined && v.to !== undefined) {
            expect(Number.isFinite(v.from) && Number.isFinite(v.to)).toBe(true);
            expect(v.from).toBeLessThan(v.to);
            expect(() => new Date(v.from!).toISOString()).not.toThrow();
            expect(() => new Date(v.to!).toISOString()).not.toThrow();
          }
        } else {
          expect(r.error.issues[0]!.path.length).toBeGreaterThan(0);
          expect(r.error.issues[0]!.message.length).toBeGreaterThan(3);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
