/**
 * A schedule of incidents — the faults an operator wants to be told of — and the alarms each must
 * cause under the default rules: the simulators' ground truth for alarms. An incident changes what
 * one device reports for a while (its model is wrapped, so what is sent stays consistent: a power
 * spike also advances the meter's counter), or keeps it quiet; the rest of the run is untouched,
 * and the default rules raise nothing on it (tested over a simulated week).
 */
import type { Model, SimDevice } from './fleet-plan.ts';

/** Power drawn during a spike: above the default rule's 80 kW. */
export const SPIKE_W = 95_000;
/** A lighting circuit's lamps left on: well above the default daylight rule's 1 kW. */
export const LAMPS_W = 4_000;
/** Bays a car park needs to be judged full by the default rule (its `minBays`). */
export const FULL_LOT_MIN_BAYS = 10;

export type IncidentKind = 'power-spike' | 'idling' | 'lighting-by-day' | 'car-park-full' | 'silence';

export interface Incident {
  deviceId: string;
  municipality: string;
  what: IncidentKind;
  /** [from, to): event time, epoch ms. */
  from: number;
  to: number;
  /** For a car park: the zone (`lot`) the device is a bay of. */
  zone?: string;
}

/** The alarm an incident must cause (the rule of the default set, and its subject). */
export interface ExpectedAlarm {
  ruleId: string;
  municipality: string;
  subject: string;
  /**
   * The condition begins at the first reading at or after `from` and ends at the first at or after `to`.
   * For a silence these bound the readings missing: its alarm is raised by the platform's clock, once
   * the gap has lasted the rule's minutes in real time (so not in a fast-forwarded history).
   */
  from: number;
  to: number;
  /** The devices whose readings make its condition: the device, or a car park's bays. */
  devices: string[];
  byPlatformClock?: true;
}

const RULE_OF: Record<IncidentKind, string> = { 'power-spike': 'power-high', idling: 'idling', 'lighting-by-day': 'lighting-in-daylight', 'car-park-full': 'car-park-full', silence: 'meter-silent' };
const MIN = 60_000;
const athensHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Athens', hour: 'numeric', hourCycle: 'h23' });
const inDaylight = (ts: number) => {
  const h = Number(athensHour.format(new Date(ts)));
  return h >= 10 && h < 16;
};

/**
 * In a window of simulated time, per municipality: its first meter draws a spike for 20 minutes
 * from 30 minutes in; its first vehicle idles for 45 minutes from 60 minutes in; its first lighting
 * circuit has its lamps on for 30 minutes from 10 minutes in, when that is daylight in Athens; its
 * best-sensed car park (at least 10 bays) is full for 45 minutes from 70 minutes in; and, with
 * `silence`, its second meter sends nothing for 50 minutes from 120 minutes in. What does not fit
 * the window is left out.
 */
export function scheduleIncidents(devices: readonly SimDevice[], start: number, end: number, opts: { silence?: boolean } = {}): Incident[] {
  const out: Incident[] = [];
  const at = (what: IncidentKind, d: SimDevice | undefined, fromMin: number, toMin: number, zone?: string) => {
    if (d && start + (toMin + 5) * MIN <= end) out.push({ deviceId: d.deviceId, municipality: d.municipality, what, from: start + fromMin * MIN, to: start + toMin * MIN, ...(zone ? { zone } : {}) });
  };
  for (const m of new Set(devices.map((d) => d.municipality))) {
    const of = (kind: SimDevice['kind']) => devices.filter((d) => d.municipality === m && d.kind === kind);
    const meters = of('energy');
    at('power-spike', meters[0], 30, 50);
    at('idling', of('fleet')[0], 60, 105);
    if (inDaylight(start + 10 * MIN) && inDaylight(start + 40 * MIN)) at('lighting-by-day', meters.find((d) => d.attributes.buildingType === 'street-lighting'), 10, 40);
    const lots = new Map<string, SimDevice[]>();
    for (const d of of('parking')) lots.set(String(d.attributes.lot), [...(lots.get(String(d.attributes.lot)) ?? []), d]);
    const [zone, bays] = [...lots].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    if (zone && bays && bays.length >= FULL_LOT_MIN_BAYS) for (const bay of bays) at('car-park-full', bay, 70, 115, zone);
    if (opts.silence) at('silence', meters[1], 120, 170);
  }
  return out;
}

export function expectedAlarms(incidents: readonly Incident[]): ExpectedAlarm[] {
  const out = new Map<string, ExpectedAlarm>();
  for (const i of incidents) {
    const subject = i.zone ?? i.deviceId;
    const key = `${i.municipality}\n${i.what}\n${subject}`;
    const devices = [...(out.get(key)?.devices ?? []), i.deviceId];
    out.set(key, { ruleId: RULE_OF[i.what], municipality: i.municipality, subject, from: i.from, to: i.to, devices, ...(i.what === 'silence' ? { byPlatformClock: true as const } : {}) });
  }
  return [...out.values()];
}

/** Whether the device sends nothing at `ts` (a silence incident). */
export const silencedAt = (incidents: readonly Incident[], ts: number): boolean => incidents.some((i) => i.what === 'silence' && ts >= i.from && ts < i.to);

/** The device's model with its incidents applied. */
export function withIncidents(model: Model, incidents: readonly Incident[]): Model {
  if (incidents.length === 0) return model;
  let extraWh = 0;
  let lastTs: number | undefined;
  let parkedAt: { lat: number; lon: number } | undefined;
  const drawOf: Partial<Record<IncidentKind, number>> = { 'power-spike': SPIKE_W, 'lighting-by-day': LAMPS_W };
  return {
    next(ts) {
      const v = model.next(ts);
      const now = incidents.find((i) => ts >= i.from && ts < i.to);
      const dt = lastTs === undefined ? 0 : Math.max(0, ts - lastTs);
      lastTs = ts;
      const draw = now ? drawOf[now.what] : undefined;
      if (draw !== undefined && typeof v.power_w === 'number') extraWh += ((draw - v.power_w) * dt) / 3_600_000;
      const out = typeof v.energy_wh === 'number' ? { ...v, energy_wh: Math.round((v.energy_wh + extraWh) * 10) / 10 } : { ...v };
      if (draw !== undefined) return { ...out, power_w: draw };
      if (now?.what === 'car-park-full') return { ...out, occupied: true };
      if (now?.what === 'idling') {
        parkedAt ??= { lat: Number(v.lat), lon: Number(v.lon) };
        return { ...out, ...parkedAt, speed_kmh: 0, ignition: true };
      }
      parkedAt = undefined;
      return out;
    },
  };
}
