/**
 * An independent recomputation of the aggregates from the simulator's ground truth: whole sorted
 * series per device, computed in one pass (not the streaming windows of the aggregator), with the
 * definitions written down in services/aggregator/README.md.
 */
import type { GroundTruthLine } from '../../simulators/runner.ts';

const EARTH_KM = 6371.0088;
function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }) {
  const r = (d: number) => (d * Math.PI) / 180;
  const h = Math.sin(r(b.lat - a.lat) / 2) ** 2 + Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(r(b.lon - a.lon) / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.sqrt(h));
}

export type Expected = Map<string, Record<string, number>>; // `${device}@${windowStartMs}` → fields

/** Readings that reached the pipeline: acknowledged, well-formed, one per device and timestamp. */
export function deliveredSeries(truth: GroundTruthLine[]): Map<string, GroundTruthLine[]> {
  const byDevice = new Map<string, Map<number, GroundTruthLine>>();
  for (const t of truth) {
    if (t.status !== 'acked' || t.fault === 'malformed') continue;
    const m = byDevice.get(t.deviceId) ?? new Map<number, GroundTruthLine>();
    if (!m.has(t.ts)) m.set(t.ts, t);
    byDevice.set(t.deviceId, m);
  }
  return new Map([...byDevice].map(([d, m]) => [d, [...m.values()].sort((a, b) => a.ts - b.ts)]));
}

const slot = (exp: Expected, device: string, start: number, init: () => Record<string, number>) => {
  const key = `${device}@${start}`;
  let v = exp.get(key);
  if (!v) exp.set(key, (v = init()));
  return v;
};

export function expectedEnergy(series: Map<string, GroundTruthLine[]>): Expected {
  const size = 15 * 60_000;
  const exp: Expected = new Map();
  for (const [device, rs] of series) {
    if (rs[0]?.kind !== 'energy') continue;
    rs.forEach((r, i) => {
      const w = slot(exp, device, Math.floor(r.ts / size) * size, () => ({ energy_kwh: 0, peak_kw: 0, readings: 0, counter_resets: 0 }));
      const e = r.reading.energy_wh as number;
      w.readings! += 1;
      w.peak_kw = Math.max(w.peak_kw!, (r.reading.power_w as number) / 1000);
      if (i > 0) {
        const prev = rs[i - 1]!.reading.energy_wh as number;
        if (e < prev) w.counter_resets! += 1;
        w.energy_kwh! += (e < prev ? e : e - prev) / 1000;
      }
    });
  }
  return exp;
}

export function expectedFleet(series: Map<string, GroundTruthLine[]>): Expected {
  const size = 3_600_000;
  const exp: Expected = new Map();
  for (const [device, rs] of series) {
    if (rs[0]?.kind !== 'fleet') continue;
    rs.forEach((r, i) => {
      const w = slot(exp, device, Math.floor(r.ts / size) * size, () => ({ distance_km: 0, moving_s: 0, idle_s: 0, max_speed_kmh: 0, speeding_events: 0, readings: 0 }));
      const speed = r.reading.speed_kmh as number;
      w.readings! += 1;
      w.max_speed_kmh = Math.max(w.max_speed_kmh!, speed);
      const prev = rs[i - 1];
      if (speed > 50 && !(prev && (prev.reading.speed_kmh as number) > 50)) w.speeding_events! += 1;
      if (!prev) return;
      const km = distanceKm(prev.reading as { lat: number; lon: number }, r.reading as { lat: number; lon: number });
      if (km * 1000 >= 15) w.distance_km! += km;
      const dt = (r.ts - prev.ts) / 1000;
      if (dt <= 600) {
        if (speed >= 3) w.moving_s! += dt;
        else if (r.reading.ignition === true) w.idle_s! += dt;
      }
    });
  }
  return exp;
}

export function expectedParking(series: Map<string, GroundTruthLine[]>): Expected {
  const size = 15 * 60_000;
  const exp: Expected = new Map();
  for (const [device, rs] of series) {
    if (rs[0]?.kind !== 'parking') continue;
    let since: number | undefined;
    rs.forEach((r, i) => {
      const start = Math.floor(r.ts / size) * size;
      const end = start + size;
      const w = slot(exp, device, start, () => ({ occupied_s: 0, occupancy_pct: 0, arrivals: 0, departures: 0, dwell_s_sum: 0, readings: 0 }));
      w.readings! += 1;
      const occ = r.reading.occupied as boolean;
      const prev = rs[i - 1];
      // Time occupied before this reading, inside this window.
      if (prev?.reading.occupied) w.occupied_s! += (r.ts - Math.max(prev.ts, start)) / 1000;
      // The state after the last reading of a window holds until the window's end.
      const next = rs[i + 1];
      if (occ && (!next || next.ts >= end)) w.occupied_s! += (end - r.ts) / 1000;
      if (prev && !prev.reading.occupied && occ) {
        w.arrivals! += 1;
        since = r.ts;
      } else if (prev?.reading.occupied && !occ) {
        w.departures! += 1;
        if (since !== undefined) w.dwell_s_sum! += (r.ts - since) / 1000;
        since = undefined;
      }
    });
  }
  for (const w of exp.values()) w.occupancy_pct = (w.occupied_s! / (size / 1000)) * 100;
  return exp;
}
