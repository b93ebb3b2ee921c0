/**
 * The simulators' incidents against the default alarm rules, as ground truth: a week of the four
 * towns' normal operation raises nothing (no false alarm from a working day's load, street lighting
 * by day, a vehicle's stops), and each scheduled incident raises exactly its alarm — when its
 * condition began — and it clears when the incident ends.
 */
import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { AlarmEvaluator, type Transition } from '../../services/alarms/evaluator.ts';
import { DEFAULT_RULES, rulesFor } from '../../services/alarms/rules.ts';
import { planDevices, type SimDevice } from '../../simulators/fleet-plan.ts';
import { expectedAlarms, scheduleIncidents, withIncidents } from '../../simulators/incidents.ts';
import { MUNICIPALITIES } from '../../simulators/municipalities.ts';
import { Rng } from '../../simulators/rng.ts';

const MIN = 60_000;
const START = Date.UTC(2026, 10, 30, 22, 0); // Monday 00:00 in Athens

/** Every device's readings, a minute apart, through the rules (silence left out: it needs the wall clock). */
function run(devices: readonly SimDevice[], from: number, minutes: number): Transition[] {
  const e = new AlarmEvaluator((m) => rulesFor(DEFAULT_RULES, m).filter((r) => r.type !== 'silence'));
  const out: Transition[] = [];
  for (let k = 0; k < minutes; k++) {
    for (const d of devices) {
      const ts = from + k * MIN;
      const values = d.model.next(ts);
      out.push(...e.observe({ deviceId: d.deviceId, municipality: d.municipality, kind: d.kind, ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'sim', attrs: d.attributes, values } as CanonicalReading));
    }
  }
  return out;
}

describe('incidents as the ground truth of alarms', () => {
  it('a week of normal operation in the four towns raises no alarm under the default rules', () => {
    const devices = planDevices({ count: 48, municipalities: MUNICIPALITIES.map((m) => m.id), rng: new Rng(7) });
    const raised = run(devices, START, 7 * 24 * 60);
    expect(raised.map((t) => `${t.ruleId} ${t.subject} ${new Date(t.at).toISOString()}`)).toEqual([]);
  });

  it('nor a week of car parks sensed well enough to be judged (10–11 bays each)', () => {
    const devices = planDevices({ count: 2 * 3 * 32, municipalities: ['kalamata', 'mytilene'], rng: new Rng(7) }).filter((d) => d.kind === 'parking');
    const lots = new Set(devices.map((d) => d.attributes.lot));
    expect(lots.size).toBe(6);
    const raised = run(devices, START, 7 * 24 * 60);
    expect(raised.map((t) => `${t.ruleId} ${t.subject} ${new Date(t.at).toISOString()}`)).toEqual([]);
  });

  it('each incident raises exactly its alarm when its condition began, cleared when it ends', () => {
    const planned = planDevices({ count: 2 * 3 * 30, municipalities: ['kalamata', 'mytilene'], rng: new Rng(11) });
    const from = START + 11 * 60 * MIN; // 13:00 in Athens: a working day's full load around it
    const incidents = scheduleIncidents(planned, from, from + 120 * MIN);
    const what = [...new Set(incidents.map((i) => `${i.municipality} ${i.what}`))].sort();
    expect(what).toEqual(['kalamata', 'mytilene'].flatMap((m) => ['car-park-full', 'idling', 'lighting-by-day', 'power-spike'].map((w) => `${m} ${w}`)));
    const devices = planned.map((d) => ({ ...d, model: withIncidents(d.model, incidents.filter((i) => i.deviceId === d.deviceId)) }));
    const out = run(devices, from, 180);
    const want = expectedAlarms(incidents);
    expect(out.filter((t) => t.state === 'raised').map((t) => `${t.ruleId} ${t.subject}`).sort()).toEqual(want.map((w) => `${w.ruleId} ${w.subject}`).sort());
    for (const w of want) {
      const raised = out.find((t) => t.state === 'raised' && t.subject === w.subject)!;
      const cleared = out.find((t) => t.state === 'cleared' && t.alarmId === raised.alarmId);
      if (w.ruleId === 'car-park-full') {
        // Full once its last bay taken reports: within a reading (a minute) of the incident's start.
        expect(raised.at, w.subject).toBeGreaterThanOrEqual(w.from - 30 * MIN);
        expect(raised.at, w.subject).toBeLessThanOrEqual(w.from + MIN);
        expect(cleared?.at, w.subject).toBe(w.to);
      } else if (w.ruleId !== 'idling') {
        expect(raised.at, w.subject).toBe(w.from); // readings fall on the minute here
        expect(cleared?.at, w.subject).toBe(w.to);
      } else {
        // A vehicle may already stand with its engine on when the incident begins, or still stand after it.
        expect(raised.at, w.subject).toBeGreaterThan(w.from - 30 * MIN);
        expect(raised.at, w.subject).toBeLessThanOrEqual(w.from);
        expect(cleared?.at, w.subject).toBeGreaterThanOrEqual(w.to);
      }
    }
  });
});
