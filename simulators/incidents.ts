/**
 * A schedule of incidents — the faults an operator wants to be told of — and the alarms each must
 * cause under the default rules: the simulators' ground truth for alarms. An incident changes what
 * one device reports for a while (its model is wrapped, so what is sent stays consistent: a power
 * spike also advances the meter's counter); the rest of the run is untouched, and the default rules
 * raise nothing on it (tested over a simulated week).
 */
import type { Model, SimDevice } from './fleet-plan.ts';

/** Power drawn during a spike: above the default rule's 80 kW. */
export const SPIKE_W = 95_000;

export interface Incident {
  deviceId: string;
  municipality: string;
  what: 'power-spike' | 'idling';
  /** [from, to): event time, epoch ms. */
  from: number;
  to: number;
}

/** The alarm an incident must cause (the rule of the default set, and its subject). */
export interface ExpectedAlarm {
  ruleId: string;
  municipality: string;
  subject: string;
  /** The condition begins at the first reading at or after `from` and ends at the first at or after `to`. */
  from: number;
  to: number;
}

const RULE_OF: Record<Incident['what'], string> = { 'power-spike': 'power-high', idling: 'idling' };
const MIN = 60_000;

/**
 * In a window of simulated time, per municipality: its first meter draws a spike for 20 minutes
 * from 30 minutes in, its first vehicle idles for 45 minutes from 60 minutes in (windows shorter
 * than 110 minutes get none of what does not fit).
 */
export function scheduleIncidents(devices: readonly SimDevice[], start: number, end: number): Incident[] {
  const out: Incident[] = [];
  const first = (m: string, kind: SimDevice['kind']) => devices.find((d) => d.municipality === m && d.kind === kind);
  for (const m of new Set(devices.map((d) => d.municipality))) {
    const meter = first(m, 'energy');
    const vehicle = first(m, 'fleet');
    if (meter && start + 55 * MIN <= end) out.push({ deviceId: meter.deviceId, municipality: m, what: 'power-spike', from: start + 30 * MIN, to: start + 50 * MIN });
    if (vehicle && start + 110 * MIN <= end) out.push({ deviceId: vehicle.deviceId, municipality: m, what: 'idling', from: start + 60 * MIN, to: start + 105 * MIN });
  }
  return out;
}

export const expectedAlarms = (incidents: readonly Incident[]): ExpectedAlarm[] => incidents.map((i) => ({ ruleId: RULE_OF[i.what], municipality: i.municipality, subject: i.deviceId, from: i.from, to: i.to }));

/** The device's model with its incidents applied. */
export function withIncidents(model: Model, incidents: readonly Incident[]): Model {
  if (incidents.length === 0) return model;
  let extraWh = 0;
  let lastTs: number | undefined;
  let parkedAt: { lat: number; lon: number } | undefined;
  return {
    next(ts) {
      const v = model.next(ts);
      const now = incidents.find((i) => ts >= i.from && ts < i.to);
      const dt = lastTs === undefined ? 0 : Math.max(0, ts - lastTs);
      lastTs = ts;
      if (now?.what === 'power-spike' && typeof v.power_w === 'number') extraWh += ((SPIKE_W - v.power_w) * dt) / 3_600_000;
      const out = typeof v.energy_wh === 'number' ? { ...v, energy_wh: Math.round((v.energy_wh + extraWh) * 10) / 10 } : { ...v };
      if (now?.what === 'power-spike') return { ...out, power_w: SPIKE_W };
      if (now?.what === 'idling') {
        parkedAt ??= { lat: Number(v.lat), lon: Number(v.lon) };
        return { ...out, ...parkedAt, speed_kmh: 0, ignition: true };
      }
      parkedAt = undefined;
      return out;
    },
  };
}
