import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { athensHourOf, insidePolygon } from './conditions.ts';
import { AlarmEvaluator, alarmIdOf, type Transition } from './evaluator.ts';
import { alarmRuleSchema, type AlarmRule } from './rules.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 7, 8, 0); // 10:00 in Athens (winter, UTC+2)
const rule = (r: object) => alarmRuleSchema.parse(r);
const evaluator = (...rules: AlarmRule[]) => new AlarmEvaluator(() => rules);

const energy = (deviceId: string, ts: number, power_w: number | undefined, attrs: Record<string, string | number> = {}): CanonicalReading => ({
  deviceId, municipality: 'kalamata', kind: 'energy', ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'gw', attrs, values: { energy_wh: 1000, ...(power_w === undefined ? {} : { power_w }) },
});
const vehicle = (ts: number, v: { lat?: number; lon?: number; speed_kmh?: number; ignition?: boolean }): CanonicalReading => ({
  deviceId: 'truck-1', municipality: 'kalamata', kind: 'fleet', ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'gw', attrs: {}, values: { lat: 37.04, lon: 22.11, ...v },
});
const bay = (deviceId: string, ts: number, occupied: boolean): CanonicalReading => ({
  deviceId, municipality: 'kalamata', kind: 'parking', ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'gw', attrs: { lot: 'lot-a' }, values: { occupied },
});
const brief = (ts: Transition[]) => ts.map((t) => [t.state, t.ruleId, t.subject, t.at]);

describe('alarm evaluator', () => {
  it('raises a threshold once it has held for its duration, with the readings that raised it, and clears when it ends', () => {
    const e = evaluator(rule({ id: 'power-high', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10 }));
    const out = [0, 5, 10, 15].flatMap((m) => e.observe(energy('m-1', T0 + m * MIN, 6000)));
    expect(brief(out)).toEqual([['raised', 'power-high', 'm-1', T0]]);
    expect(out[0]!.evidence.map((x) => x.ts)).toEqual([T0, T0 + 5 * MIN, T0 + 10 * MIN]);
    expect(out[0]!.alarmId).toBe(alarmIdOf('kalamata', 'power-high', 'm-1', T0));
    expect(brief(e.observe(energy('m-1', T0 + 20 * MIN, 100)))).toEqual([['cleared', 'power-high', 'm-1', T0 + 20 * MIN]]);
    expect(e.openAlarms()).toEqual([]);
  });

  it('does not raise when the condition breaks before its duration; a reading without the field changes nothing', () => {
    const e = evaluator(rule({ id: 'p', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10 }));
    const out = [[0, 6000], [5, undefined], [8, 100], [9, 6000], [18, 6000]].flatMap(([m, p]) => e.observe(energy('m-1', T0 + m! * MIN, p)));
    expect(out).toEqual([]);
  });

  it('a reading older than the newest one of its track changes nothing (an out-of-order message cannot clear or restart an alarm)', () => {
    const e = evaluator(rule({ id: 'p', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10 }));
    expect(brief([0, 10].flatMap((m) => e.observe(energy('m-1', T0 + m * MIN, 6000))))).toEqual([['raised', 'p', 'm-1', T0]]);
    expect(e.observe(energy('m-1', T0 + 3 * MIN, 100))).toEqual([]);
    expect(e.openAlarms()).toEqual([alarmIdOf('kalamata', 'p', 'm-1', T0)]);
  });

  it('one device never changes another device’s alarms', () => {
    const e = evaluator(rule({ id: 'p', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 0 }));
    expect(brief(e.observe(energy('a', T0, 9000)))).toEqual([['raised', 'p', 'a', T0]]);
    expect(e.observe(energy('b', T0 + MIN, 10))).toEqual([]);
    expect(e.openAlarms()).toHaveLength(1);
  });

  it('judges daylight by Athens local time', () => {
    expect(athensHourOf(Date.UTC(2026, 11, 7, 10, 0))).toBe(12); // winter: UTC+2
    expect(athensHourOf(Date.UTC(2026, 6, 7, 10, 0))).toBe(13); // summer: UTC+3
    const e = evaluator(rule({ id: 'day', type: 'daylight-draw', kind: 'energy', where: { buildingType: 'street-lighting' }, minPowerW: 200, forMinutes: 15 }));
    const lamp = (m: number, p: number) => energy('lamp-1', T0 + m * MIN, p, { buildingType: 'street-lighting' });
    expect(e.observe(energy('school-1', T0, 5000, { buildingType: 'school' }))).toEqual([]);
    expect(brief([0, 15].flatMap((m) => e.observe(lamp(m, 800))))).toEqual([['raised', 'day', 'lamp-1', T0]]);
    // 16:00 in Athens: no longer daylight by the rule, so the alarm clears even though the lamp still draws.
    expect(brief(e.observe(lamp(6 * 60, 800)))).toEqual([['cleared', 'day', 'lamp-1', T0 + 6 * 60 * MIN]]);
  });

  it('raises idling after its minutes with ignition on and no speed, and a vehicle leaving its geofence at once', () => {
    const square: [number, number][] = [[22, 37], [22.2, 37], [22.2, 37.2], [22, 37.2]];
    expect(insidePolygon([22.1, 37.1], square)).toBe(true);
    expect(insidePolygon([22.3, 37.1], square)).toBe(false);
    const e = evaluator(rule({ id: 'idle', type: 'idling', kind: 'fleet', forMinutes: 40 }), rule({ id: 'fence', type: 'geofence', kind: 'fleet', polygon: square }));
    const out = [0, 20, 40].flatMap((m) => e.observe(vehicle(T0 + m * MIN, { ignition: true, speed_kmh: 0 })));
    expect(brief(out)).toEqual([['raised', 'idle', 'truck-1', T0]]);
    expect(brief(e.observe(vehicle(T0 + 41 * MIN, { ignition: true, speed_kmh: 30, lon: 22.5 })))).toEqual([
      ['cleared', 'idle', 'truck-1', T0 + 41 * MIN],
      ['raised', 'fence', 'truck-1', T0 + 41 * MIN],
    ]);
  });

  it('raises a full car park for its zone, from its bays together', () => {
    const e = evaluator(rule({ id: 'full', type: 'occupancy', kind: 'parking', abovePct: 70, minBays: 4, forMinutes: 15 }));
    // Three bays, all taken, are not yet a car park; the fourth (free) makes 75 % of four.
    const out = [bay('b1', T0, true), bay('b2', T0 + MIN, true), bay('b3', T0 + 2 * MIN, true), bay('b4', T0 + 3 * MIN, false), bay('b1', T0 + 20 * MIN, true)].flatMap((r) => e.observe(r));
    expect(brief(out)).toEqual([['raised', 'full', 'lot-a', T0 + 3 * MIN]]);
    expect(brief(e.observe(bay('b1', T0 + 21 * MIN, false)))).toEqual([['cleared', 'full', 'lot-a', T0 + 21 * MIN]]);
  });

  it('holds a pending car park to where its bays were read, so a replay from there raises it with the same id', () => {
    const full = rule({ id: 'full', type: 'occupancy', kind: 'parking', abovePct: 90, minBays: 3, forMinutes: 10 });
    // Three bays on two partitions, each reading at its offset; the zone fills at b3's reading.
    const log = [
      { r: bay('b1', T0, true), at: { partition: 0, offset: 10 } },
      { r: bay('b2', T0 + MIN, true), at: { partition: 1, offset: 20 } },
      { r: bay('b3', T0 + 2 * MIN, true), at: { partition: 0, offset: 11 } },
      { r: bay('b2', T0 + 5 * MIN, true), at: { partition: 1, offset: 21 } },
      { r: bay('b1', T0 + 13 * MIN, true), at: { partition: 0, offset: 12 } },
    ];
    const e = evaluator(full);
    for (const { r, at } of log.slice(0, 4)) expect(e.observe(r, at)).toEqual([]);
    expect([e.pendingFrom(0), e.pendingFrom(1)]).toEqual([10, 20]); // every bay's state, not only b3's reading
    const raised = e.observe(log[4]!.r, log[4]!.at);
    expect(brief(raised)).toEqual([['raised', 'full', 'lot-a', T0 + 2 * MIN]]);
    expect([e.pendingFrom(0), e.pendingFrom(1)]).toEqual([undefined, undefined]);
    // After a crash before the raise: each partition replayed from its held offset, in another interleaving.
    const again = evaluator(full);
    const replay = [log[1]!, log[3]!, log[0]!, log[2]!, log[4]!];
    expect(replay.flatMap(({ r, at }) => again.observe(r, at)).map((t) => t.alarmId)).toEqual([raised[0]!.alarmId]);
  });

  it('raises silence by the platform clock (receive times), whatever the device’s clock says, and clears it when the device is heard', () => {
    const e = evaluator(rule({ id: 'silent', type: 'silence', kind: 'energy', minutes: 30 }));
    const skewed = { ...energy('m-1', T0 - 365 * 24 * 60 * MIN, 10), receivedAt: T0 }; // a clock a year behind
    expect(e.observe(skewed)).toEqual([]);
    expect(e.tick(T0 + 29 * MIN)).toEqual([]);
    const raised = e.tick(T0 + 31 * MIN);
    expect(brief(raised)).toEqual([['raised', 'silent', 'm-1', T0]]);
    expect(e.tick(T0 + 60 * MIN)).toEqual([]); // once
    expect(brief(e.observe({ ...skewed, receivedAt: T0 + 61 * MIN }))).toEqual([['cleared', 'silent', 'm-1', T0 + 61 * MIN]]);
    expect(e.observe({ ...skewed, receivedAt: T0 + 62 * MIN })[0]?.alarmId).toBeUndefined();
  });

  it('for any readings: never throws, one open alarm per rule and subject, every clear follows its raise, and a replay gives the same transitions', () => {
    const rules = [
      rule({ id: 'p', type: 'threshold', kind: 'energy', field: 'power_w', above: 5000, forMinutes: 10 }),
      rule({ id: 'idle', type: 'idling', kind: 'fleet', forMinutes: 5 }),
      rule({ id: 'full', type: 'occupancy', kind: 'parking', abovePct: 50, minBays: 2, forMinutes: 5 }),
      rule({ id: 's', type: 'silence', kind: 'energy', minutes: 10 }),
    ];
    const reading = fc.oneof(
      fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 120 }), fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: undefined })).map(([d, m, p]) => energy(d, T0 + m * MIN, p)),
      fc.tuple(fc.integer({ min: 0, max: 120 }), fc.boolean(), fc.integer({ min: 0, max: 50 })).map(([m, ignition, speed_kmh]) => vehicle(T0 + m * MIN, { ignition, speed_kmh })),
      fc.tuple(fc.constantFrom('b1', 'b2', 'b3'), fc.integer({ min: 0, max: 120 }), fc.boolean()).map(([d, m, o]) => bay(d, T0 + m * MIN, o)),
      fc.integer({ min: 0, max: 200 }).map((m) => ({ tick: T0 + m * MIN })),
    );
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 80 }), (steps) => {
        const run = () => {
          const e = evaluator(...rules);
          return steps.flatMap((s) => ('tick' in s ? e.tick(s.tick) : e.observe(s)));
        };
        const out = run();
        const open = new Map<string, string>();
        for (const t of out) {
          const key = `${t.ruleId}/${t.subject}`;
          if (t.state === 'raised') {
            expect(open.has(key)).toBe(false);
            open.set(key, t.alarmId);
          } else {
            expect(open.get(key)).toBe(t.alarmId);
            open.delete(key);
          }
        }
        expect(run()).toEqual(out);
      }),
      { numRuns: 300 },
    );
  });
});
