/**
 * The KPI maths of one device's window, pure. Each takes the `carry` left by the device's
 * previous window (the last reading's state) and the window's readings, and returns the
 * aggregate fields plus the carry for the next window. An interval between two readings counts
 * in the window of the later reading, so nothing is counted twice across windows or lost in gaps.
 */
import { haversineKm } from '../../shared/geo.ts';

export interface EnergyPoint {
  ts: number;
  energy_wh: number;
  power_w?: number;
}
export interface EnergyCarry {
  ts: number;
  energy_wh: number;
}
export interface EnergyAggregate {
  energy_kwh: number;
  peak_kw: number;
  readings: number;
  counter_resets: number;
}

/** kWh from counter deltas; a drop in the counter is a reset (meter replaced) and counts from 0. */
export function energyWindow(carry: EnergyCarry | undefined, readings: EnergyPoint[]): { agg: EnergyAggregate; carry: EnergyCarry } {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  let prev: EnergyCarry | undefined = carry;
  let wh = 0;
  let resets = 0;
  let peakFromDeltas = 0;
  let peakPower = -Infinity;
  for (const r of sorted) {
    if (r.power_w !== undefined) peakPower = Math.max(peakPower, r.power_w);
    if (prev && r.ts > prev.ts) {
      let d = r.energy_wh - prev.energy_wh;
      if (d < 0) {
        resets++;
        d = r.energy_wh;
      }
      wh += d;
      peakFromDeltas = Math.max(peakFromDeltas, d / ((r.ts - prev.ts) / 3_600_000));
    }
    prev = { ts: r.ts, energy_wh: r.energy_wh };
  }
  const peakW = peakPower > -Infinity ? peakPower : peakFromDeltas;
  return { agg: { energy_kwh: wh / 1000, peak_kw: peakW / 1000, readings: sorted.length, counter_resets: resets }, carry: prev! };
}

/** A vehicle's reading; without `lat`/`lon` when it was in private use (its position dropped). */
export interface FleetPoint {
  ts: number;
  lat?: number;
  lon?: number;
  speed_kmh?: number;
  ignition?: boolean;
}
export interface FleetCarry {
  ts: number;
  lat?: number;
  lon?: number;
  speed_kmh?: number;
  speeding: boolean;
}
export interface FleetAggregate {
  distance_km: number;
  moving_s: number;
  idle_s: number;
  max_speed_kmh: number;
  speeding_events: number;
  readings: number;
}
export interface FleetRules {
  /** A move shorter than this between two fixes is GPS jitter, not distance. */
  jitterM: number;
  /** At or above this speed the vehicle is moving. */
  movingKmh: number;
  speedLimitKmh: number;
  /** Intervals longer than this (tracker off) count distance but no moving/idle time. */
  maxGapS: number;
}

export function fleetWindow(carry: FleetCarry | undefined, readings: FleetPoint[], rules: FleetRules): { agg: FleetAggregate; carry: FleetCarry } {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  let prev = carry;
  const agg: FleetAggregate = { distance_km: 0, moving_s: 0, idle_s: 0, max_speed_kmh: 0, speeding_events: 0, readings: sorted.length };
  for (const r of sorted) {
    let speed = r.speed_kmh;
    if (prev && r.ts > prev.ts) {
      const dtS = (r.ts - prev.ts) / 1000;
      let moved: number;
      if (prev.lat !== undefined && prev.lon !== undefined && r.lat !== undefined && r.lon !== undefined) {
        const km = haversineKm([prev.lat, prev.lon], [r.lat, r.lon]);
        moved = km * 1000 >= rules.jitterM ? km : 0;
      } else {
        // In private use (no positions): the distance from the speeds reported (trapezoids), over
        // intervals short enough to trust them; a gap's distance is unknown.
        moved = dtS <= rules.maxGapS ? (((prev.speed_kmh ?? r.speed_kmh ?? 0) + (r.speed_kmh ?? 0)) / 2) * (dtS / 3600) : 0;
      }
      agg.distance_km += moved;
      speed ??= (moved / dtS) * 3600;
      if (dtS <= rules.maxGapS) {
        if (speed >= rules.movingKmh) agg.moving_s += dtS;
        else if (r.ignition === true) agg.idle_s += dtS;
      }
    }
    speed ??= 0;
    agg.max_speed_kmh = Math.max(agg.max_speed_kmh, speed);
    const speeding = speed > rules.speedLimitKmh;
    if (speeding && !(prev?.speeding ?? false)) agg.speeding_events++;
    prev = { ts: r.ts, ...(r.lat !== undefined && r.lon !== undefined ? { lat: r.lat, lon: r.lon } : {}), ...(r.speed_kmh !== undefined ? { speed_kmh: r.speed_kmh } : {}), speeding };
  }
  return { agg, carry: prev! };
}

export interface ParkingPoint {
  ts: number;
  occupied: boolean;
}
export interface ParkingCarry {
  ts: number;
  occupied: boolean;
  /** When the current stay began, if it was seen beginning. */
  since?: number;
}
export interface ParkingAggregate {
  occupied_s: number;
  occupancy_pct: number;
  arrivals: number;
  departures: number;
  dwell_s_sum: number;
  readings: number;
}

/**
 * Occupancy of one bay in [start, end): the state of each reading holds until the next one (and
 * the last one until the window's end). An arrival is a free→occupied change, a departure the
 * reverse; dwell is measured at departure from the arrival that was seen.
 */
export function parkingWindow(carry: ParkingCarry | undefined, readings: ParkingPoint[], start: number, end: number): { agg: ParkingAggregate; carry: ParkingCarry } {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const agg: ParkingAggregate = { occupied_s: 0, occupancy_pct: 0, arrivals: 0, departures: 0, dwell_s_sum: 0, readings: sorted.length };
  let state = carry;
  let from = carry ? start : undefined; // without a carry the state before the first reading is unknown
  let occupiedMs = 0;
  for (const r of sorted) {
    if (state?.occupied && from !== undefined) occupiedMs += Math.max(0, r.ts - Math.max(from, start));
    if (state && !state.occupied && r.occupied) {
      agg.arrivals++;
      state = { ts: r.ts, occupied: true, since: r.ts };
    } else if (state?.occupied && !r.occupied) {
      agg.departures++;
      if (state.since !== undefined) agg.dwell_s_sum += (r.ts - state.since) / 1000;
      state = { ts: r.ts, occupied: false };
    } else {
      state = { ts: r.ts, occupied: r.occupied, since: state?.since };
    }
    from = r.ts;
  }
  if (state?.occupied && from !== undefined) occupiedMs += Math.max(0, end - Math.max(from, start));
  agg.occupied_s = occupiedMs / 1000;
  agg.occupancy_pct = (occupiedMs / (end - start)) * 100;
  return { agg, carry: state! };
}
