/**
 * The writer's line protocol against the client library's: for any point (any characters in
 * names, tags and strings, any numbers), `toLine` gives the line `Point.toLineProtocol` gives, and
 * a non-finite number is refused as such before anything is sent.
 */
import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StorePoint } from '../store/store.ts';
import { InfluxTelemetryStore } from './telemetry-store.ts';
import { toLine, UnwritablePoint } from './line-protocol.ts';

/** The library's serialisation, at the millisecond precision the store writes with. */
function libraryLine(p: StorePoint): string | undefined {
  const point = new Point(p.measurement).timestamp(p.ts);
  for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') point.floatField(k, v);
    else if (typeof v === 'boolean') point.booleanField(k, v);
    else point.stringField(k, v);
  }
  return point.toLineProtocol({ convertTime: (t) => String(Math.floor(t as number)) });
}

/** Names and values with the characters line protocol escapes, and plain ones. */
const text = fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9_-]{1,12}$/), fc.constantFrom('', ' ', ',', '=', '"', '\\', 'a b,c=d', 'x\ny\r\tz', 'say "hi"\\', 'Αθήνα'));
const finite = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7, 123456.5));
/**
 * Tag and field names, except `__proto__`: the library's `Point` keeps them in plain objects,
 * where that name sets the prototype and the tag or field is silently lost; `toLine` writes it.
 */
const key = text.filter((k) => k !== '__proto__');
const point = fc.record({
  measurement: text.filter((s) => s !== ''),
  tags: fc.dictionary(key, text, { maxKeys: 6 }),
  fields: fc.dictionary(key, fc.oneof(finite, fc.boolean(), text), { maxKeys: 6 }),
  ts: fc.integer({ min: 0, max: 8.64e15 }),
});

describe('line protocol', () => {
  it('is the line the client library writes, for any point', () => {
    fc.assert(
      fc.property(point, (p) => {
        expect(toLine(p)).toBe(libraryLine(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('is the library line for every point of a run whose points share tag objects (as a message\'s points do)', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 4 }), fc.array(fc.record({ from: fc.nat(), measurement: fc.nat(), fields: fc.nat(), ts: fc.nat() }), { maxLength: 30 }), (pool, picks) => {
        // Points built from a few shared tag objects, measurements and fields, in any order.
        for (const k of picks) {
          const p = { measurement: pool[k.measurement % pool.length]!.measurement, tags: pool[k.from % pool.length]!.tags, fields: pool[k.fields % pool.length]!.fields, ts: pool[k.ts % pool.length]!.ts };
          expect(toLine(p)).toBe(libraryLine(p));
        }
      }),
    );
  });

  it('writes a reading as InfluxDB reads it', () => {
    const line = toLine({ measurement: 'energy', tags: { municipality: 'athens', device: 'ath-1', district: 'Plaka Anafiotika' }, fields: { energy_wh: 1234.5, ts_from_gateway: true, carry: '{"a":"b"}' }, ts: 1764200000000 });
    expect(line).toBe('energy,device=ath-1,district=Plaka\\ Anafiotika,municipality=athens carry="{\\"a\\":\\"b\\"}",energy_wh=1234.5,ts_from_gateway=T 1764200000000');
  });

  it('refuses a non-finite number before sending, as a refusal (not a store that is away)', () => {
    const store = new InfluxTelemetryStore({ INFLUX_URL: 'http://127.0.0.1:9', INFLUX_TOKEN: '', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b' });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      let thrown: unknown;
      try {
        toLine({ measurement: 'energy_15m', tags: { device: 'd' }, fields: { energy_kwh: bad }, ts: 0 });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(UnwritablePoint);
      expect(String(thrown)).toMatch(new RegExp(`energy_kwh.*device d.*${bad}`));
      expect(store.isRefusal(thrown)).toBe(true);
    }
    expect(store.isRefusal(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});
