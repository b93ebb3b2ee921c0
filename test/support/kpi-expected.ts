/**
 * KPIs recomputed from the simulator's ground truth, independently of the KPI code: the windows
 * come from the test's own batch recomputation (recompute.ts), the roll-ups are plain loops here,
 * and local days use a fixed UTC offset read from the calendar rule (EET/EEST), not Intl.
 */
import type { GroundTruthLine } from '../../simulators/runner.ts';
import { expectedEnergy, expectedFleet, expectedParking, type Expected } from './recompute.ts';

type Attrs = Map<string, Record<string, string | number>>;

/** Europe/Athens: UTC+3 from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC, else UTC+2. */
function athensOffsetHours(ts: number): number {
  const y = new Date(ts).getUTCFullYear();
  const lastSunday = (month: number) => {
    const d = new Date(Date.UTC(y, month + 1, 0, 1));
    d.setUTCDate(d.getUTCDate() - d.getUTCDay());
    return d.getTime();
  };
  return ts >= lastSunday(2) && ts < lastSunday(9) ? 3 : 2;
}
export const athensDay = (ts: number) => new Date(ts + athensOffsetHours(ts) * 3_600_000).toISOString().slice(0, 10);

const split = (key: string) => {
  const at = key.lastIndexOf('@');
  return { device: key.slice(0, at), start: Number(key.slice(at + 1)) };
};

function inRange(exp: Expected, from: number, to: number) {
  return [...exp].map(([k, f]) => ({ ...split(k), f })).filter((w) => w.start >= from && w.start < to);
}

/** kWh per (day, building) and peak kW per (day, municipality). */
export function expectedEnergyKpis(series: Map<string, GroundTruthLine[]>, attrs: Attrs, from: number, to: number) {
  const kwh = new Map<string, number>();
  const quarter = new Map<string, number>();
  for (const w of inRange(expectedEnergy(series), from, to)) {
    const day = athensDay(w.start);
    const building = String(attrs.get(w.device)?.building ?? w.device);
    kwh.set(`${day}|${building}`, (kwh.get(`${day}|${building}`) ?? 0) + w.f.energy_kwh!);
    quarter.set(`${day}|${w.start}`, (quarter.get(`${day}|${w.start}`) ?? 0) + w.f.energy_kwh!);
  }
  const peak = new Map<string, number>();
  for (const [k, v] of quarter) {
    const day = k.split('|')[0]!;
    peak.set(day, Math.max(peak.get(day) ?? 0, v * 4));
  }
  return { kwh, peak };
}

export function expectedFleetKpis(series: Map<string, GroundTruthLine[]>, from: number, to: number) {
  const out = new Map<string, { distance_km: number; engine_on_s: number; idle_s: number; speeding_events: number }>();
  for (const w of inRange(expectedFleet(series), from, to)) {
    const v = out.get(w.device) ?? { distance_km: 0, engine_on_s: 0, idle_s: 0, speeding_events: 0 };
    v.distance_km += w.f.distance_km!;
    v.engine_on_s += w.f.moving_s! + w.f.idle_s!;
    v.idle_s += w.f.idle_s!;
    v.speeding_events += w.f.speeding_events!;
    out.set(w.device, v);
  }
  return out;
}

export function expectedParkingKpis(series: Map<string, GroundTruthLine[]>, attrs: Attrs, from: number, to: number) {
  const out = new Map<string, { occupied_s: number; windows: number; arrivals: number; departures: number; dwell_s: number; bays: Set<string> }>();
  for (const w of inRange(expectedParking(series), from, to)) {
    const lot = String(attrs.get(w.device)?.lot);
    const v = out.get(lot) ?? { occupied_s: 0, windows: 0, arrivals: 0, departures: 0, dwell_s: 0, bays: new Set<string>() };
    v.occupied_s += w.f.occupied_s!;
    v.windows += 1;
    v.arrivals += w.f.arrivals!;
    v.departures += w.f.departures!;
    v.dwell_s += w.f.dwell_s_sum!;
    v.bays.add(w.device);
    out.set(lot, v);
  }
  return out;
}

/** Newest delivered reading per device. */
export function expectedLastSeen(series: Map<string, GroundTruthLine[]>) {
  return new Map([...series].map(([d, rs]) => [d, Math.max(...rs.map((r) => r.ts))]));
}
