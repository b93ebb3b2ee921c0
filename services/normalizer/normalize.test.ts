import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeRecord, type NormalizeOptions } from './normalize.ts';
import { PrivateUsePolicy } from '../../shared/privacy/private-use.ts';
import { parseNormalizedMessage, toNormalizedMessage } from '../../shared/schemas/readings.ts';
import { Deduper, firstOfEachTime } from './dedupe.ts';

const receivedAt = Date.UTC(2026, 10, 25, 12, 0, 0);
const opts: NormalizeOptions = { maxFutureMs: 3_600_000, attributesOf: (id) => (id === 'kal-m-1' ? { district: 'paralia', building: 'school-1' } : undefined) };
const envelope = (kind: string, payload: string, deviceId = 'kal-m-1', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ gatewayId: 'gw-1', receivedAt, municipality: 'kalamata', kind, deviceId, payload, payloadEncoding: 'utf8', ...extra });

describe('normalizeRecord', () => {
  it('accepts a native reading with epoch ms, enriches it from the registry', () => {
    const r = normalizeRecord(envelope('energy', JSON.stringify({ ts: receivedAt - 1000, energy_wh: 5000.5, power_w: 1200 })), opts);
    expect(r.rejections).toEqual([]);
    expect(r.readings).toEqual([
      {
        kind: 'energy', deviceId: 'kal-m-1', municipality: 'kalamata', ts: receivedAt - 1000, tsFromGateway: false, receivedAt, gatewayId: 'gw-1',
        attrs: { district: 'paralia', building: 'school-1' }, values: { energy_wh: 5000.5, power_w: 1200 },
      },
    ]);
  });

  it.each([
    ['epoch ms', receivedAt - 60_000],
    ['epoch s', (receivedAt - 60_000) / 1000],
    ['ISO-8601 Z', new Date(receivedAt - 60_000).toISOString()],
    ['ISO-8601 offset', '2026-11-25T13:59:00+02:00'],
  ])('reads a timestamp in %s', (_what, ts) => {
    const r = normalizeRecord(envelope('parking', JSON.stringify({ ts, occupied: true })), opts);
    expect(r.readings[0]?.ts).toBe(receivedAt - 60_000);
  });

  it('falls back to the receive time when the device sent none, and flags it', () => {
    const r = normalizeRecord(envelope('parking', '{"occupied":false}'), opts);
    expect(r.readings[0]).toMatchObject({ ts: receivedAt, tsFromGateway: true, attrs: {} });
  });

  it('takes arrays, keeping the good readings and rejecting the bad ones by index', () => {
    const body = [{ ts: receivedAt - 2000, lat: 37.03, lon: 22.11, speed_kmh: 30 }, { ts: receivedAt - 1000, lat: 137, lon: 22.11 }, { ts: receivedAt, lat: 37.04, lon: 22.12 }];
    const r = normalizeRecord(envelope('fleet', JSON.stringify(body), 'kal-bus-1'), opts);
    expect(r.readings.map((x) => x.ts)).toEqual([receivedAt - 2000, receivedAt]);
    expect(r.rejections).toEqual([{ index: 1, code: 'field_invalid', field: 'lat', reason: expect.stringMatching(/^lat: .*90/) as string }]);
  });

  it('converts SenML to canonical units (kWh → Wh, m/s → km/h, rad → degrees)', () => {
    const t = (receivedAt - 5000) / 1000;
    const energy = [{ bn: 'urn:dev:id:kal-m-1:', bt: t, n: 'energy', u: 'kWh', v: 12.5 }, { n: 'power', u: 'kW', v: 1.5 }, { n: 'voltage', u: 'V', v: 229.9 }];
    expect(normalizeRecord(envelope('energy', JSON.stringify(energy)), opts).readings[0]).toMatchObject({ ts: receivedAt - 5000, values: { energy_wh: 12500, power_w: 1500, voltage_v: 229.9 } });
    const fleet = [{ bn: 'urn:dev:id:kal-bus-1:', bt: t, n: 'lat', v: 37.03 }, { n: 'lon', v: 22.1 }, { n: 'speed', u: 'm/s', v: 10 }, { n: 'heading', u: 'rad', v: Math.PI }, { n: 'ignition', vb: true }];
    expect(normalizeRecord(envelope('fleet', JSON.stringify(fleet), 'kal-bus-1'), opts).readings[0]?.values).toEqual({ lat: 37.03, lon: 22.1, speed_kmh: 36, heading_deg: 180, ignition: true });
  });

  it('groups SenML records by time into one reading each', () => {
    const senml = [{ bn: 'urn:dev:id:kal-bay-1:', n: 'occupied', t: 1_790_000_000, vb: true }, { n: 'occupied', t: 1_790_000_060, vb: false }];
    const r = normalizeRecord(envelope('parking', JSON.stringify(senml), 'kal-bay-1'), opts);
    expect(r.readings.map((x) => [x.ts, x.values])).toEqual([[1_790_000_000_000, { occupied: true }], [1_790_000_060_000, { occupied: false }]]);
  });

  it.each([
    ['not JSON', 'hello', /^payload: invalid JSON/],
    ['a JSON number', '42', /^payload: unknown format/],
    ['a missing required field', '{"ts":1790000000000,"power_w":5}', /^energy_wh: /],
    ['a wrong type', '{"ts":1790000000000,"energy_wh":"n/a"}', /^energy_wh: .*number/],
    ['an out-of-range value', '{"ts":1790000000000,"energy_wh":-5}', /^energy_wh: .*>=0/],
    ['an unparseable timestamp', '{"ts":"yesterday","energy_wh":5}', /^ts: 'yesterday' is not epoch ms/],
    ['a timestamp in the future', `{"ts":${receivedAt + 7_200_000},"energy_wh":5}`, /^ts: .*ahead of the gateway's clock/],
    ['a timestamp before 2000', '{"ts":"1999-12-31T23:00:00Z","energy_wh":5}', /^ts: .*before 2000/],
    ['SenML naming another device', '[{"bn":"urn:dev:id:kal-m-2:","n":"energy","v":1}]', /senml bn names device 'kal-m-2'/],
    ['SenML with an unknown unit', '[{"bn":"urn:dev:id:kal-m-1:","n":"energy","u":"BTU","v":1}]', /unit 'BTU' is not supported/],
  ])('rejects %s with a reason naming the field', (_what, payload, reason) => {
    const r = normalizeRecord(envelope('energy', payload), opts);
    expect(r.readings).toEqual([]);
    expect(r.rejections[0]?.reason).toMatch(reason);
  });

  it('rejects a broken envelope without throwing', () => {
    expect(normalizeRecord('{{', opts).rejections[0]?.reason).toBe('envelope: not JSON');
    expect(normalizeRecord(envelope('water', '{}'), opts).rejections[0]?.reason).toMatch(/^envelope: kind: /);
  });
});

describe('Deduper', () => {
  /** What the normaliser does with a reading it forwards: a duplicate is dropped, anything else remembered. */
  const isDuplicate = (d: Deduper, id: string, ts: number) => {
    if (d.has(id, ts)) return true;
    d.remember(id, ts);
    return false;
  };

  it('drops the same device+timestamp within the horizon only', () => {
    let now = 0;
    const d = new Deduper(1000, 100, () => now);
    expect(isDuplicate(d, 'a', 1)).toBe(false);
    expect(isDuplicate(d, 'a', 1)).toBe(true);
    expect(isDuplicate(d, 'b', 1)).toBe(false);
    expect(isDuplicate(d, 'a', 2)).toBe(false);
    now = 5000;
    expect(isDuplicate(d, 'a', 1)).toBe(false); // beyond the horizon: forwarded again
    expect(d.size).toBe(2); // a@2 aged out on a's next insert; b@1 waits for b's
  });

  it('remembers at most maxPerDevice timestamps per device, the newest half at least', () => {
    const d = new Deduper(60_000, 4, () => 0);
    for (const ts of [1, 2, 3, 4, 5]) expect(isDuplicate(d, 'a', ts)).toBe(false);
    expect(d.size).toBeLessThanOrEqual(4);
    expect([isDuplicate(d, 'a', 5), isDuplicate(d, 'a', 4)]).toEqual([true, true]);
    expect(isDuplicate(d, 'a', 1)).toBe(false); // forgotten: bounded memory wins over a very old duplicate
  });

  it('for any sequence of readings: a duplicate is one remembered within the horizon, the newest half of the bound are all remembered, and the bound holds', () => {
    const horizon = 1000;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.record({ ts: fc.integer({ min: 0, max: 30 }), dt: fc.integer({ min: 0, max: 700 }) }), { maxLength: 200 }), (max, steps) => {
        let now = 0;
        const d = new Deduper(horizon, max, () => now);
        /** ts → when last remembered, in the order of those last times. */
        const model = new Map<number, number>();
        for (const { ts, dt } of steps) {
          now += dt;
          const duplicate = d.has('a', ts);
          const last = model.get(ts);
          expect(duplicate).toBe(duplicate && last !== undefined && now - last <= horizon);
          if (duplicate) continue;
          d.remember('a', ts);
          model.delete(ts);
          model.set(ts, now);
          expect(d.size).toBeLessThanOrEqual(max);
          const newest = [...model].slice(-Math.max(1, Math.floor(max / 2)));
          for (const [t, at] of newest) if (now - at <= horizon) expect(d.has('a', t)).toBe(true);
        }
      }),
    );
  });
});

describe('firstOfEachTime', () => {
  it('keeps the first reading of each timestamp, in order, whatever the order they come in', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (times) => {
        const readings = times.map((ts, i) => ({ ts, i }));
        const model = readings.filter((r, i) => readings.findIndex((o) => o.ts === r.ts) === i);
        expect(firstOfEachTime(readings)).toEqual(model);
      }),
    );
  });

  it('keeps readings in time order as they are', () => {
    const readings = [1, 2, 5, 9].map((ts) => ({ ts }));
    expect(firstOfEachTime(readings)).toEqual(readings);
  });
});

describe('a vehicle in private use', () => {
  const privateUse = new PrivateUsePolicy({ kalamata: { days: [1, 2, 3, 4, 5], from: '07:00', to: '17:00' } });
  const withPolicy: NormalizeOptions = { ...opts, privateUse, attributesOf: (id): Record<string, string> => (id === 'kal-car-9' ? { use: 'private' } : {}) };
  // receivedAt is Wednesday 2026-11-25 14:00 in Athens: working hours.
  const evening = receivedAt + 4 * 3_600_000; // 18:00

  it('loses its position outside working hours, keeping speed, ignition and fuel', () => {
    const body = [{ ts: receivedAt, lat: 37.03, lon: 22.11, heading_deg: 90, speed_kmh: 30, ignition: true, fuel_pct: 50 }, { ts: evening, lat: 37.04, lon: 22.12, heading_deg: 80, speed_kmh: 40, ignition: true, fuel_pct: 49 }];
    const r = normalizeRecord(envelope('fleet', JSON.stringify(body), 'kal-bus-1'), { ...withPolicy, maxFutureMs: 6 * 3_600_000 });
    expect(r.readings.map((x) => x.values)).toEqual([
      { lat: 37.03, lon: 22.11, heading_deg: 90, speed_kmh: 30, ignition: true, fuel_pct: 50 },
      { speed_kmh: 40, ignition: true, fuel_pct: 49, private_use: true },
    ]);
    expect(r.positionsDropped).toBe(1);
    expect(parseNormalizedMessage(toNormalizedMessage(r.readings)).success).toBe(true);
  });

  it('loses it at any hour when marked use=private; other kinds and towns keep everything', () => {
    const car = normalizeRecord(envelope('fleet', JSON.stringify({ ts: receivedAt, lat: 37.03, lon: 22.11 }), 'kal-car-9'), withPolicy);
    expect(car.readings[0]?.values).toEqual({ private_use: true });
    const elsewhere = normalizeRecord(envelope('fleet', JSON.stringify({ ts: evening - 8 * 3_600_000 - 3_600_000 * 12, lat: 37.03, lon: 22.11 }), 'kal-bus-1', { municipality: 'sparti' }), withPolicy);
    expect(elsewhere.readings[0]?.values).toEqual({ lat: 37.03, lon: 22.11 });
    expect(elsewhere.positionsDropped).toBeUndefined();
  });
});
