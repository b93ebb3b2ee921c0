/**
 * Mobility KPIs: per vehicle from the `fleet_1h` windows (distance, utilisation, idle share,
 * speeding) and per parking lot from the bay sensors' `parking_15m` windows (occupancy, turnover,
 * mean dwell).
 *
 * Definitions (as fleet telematics and parking operators use them):
 * - utilisation % = engine-on time (moving + idling) / the period's length;
 * - idle % = idling / engine-on time;
 * - occupancy % = occupied bay-seconds / observed bay-seconds (windows the sensors reported);
 * - turnover = arrivals per monitored bay per day; mean dwell = parked time per departure.
 */
import { byKeys, groupBy, round, sum } from './group.ts';
import { WINDOW_MS, type TimeRange, type WindowRow } from './source.ts';

export interface VehicleKpi {
  municipality: string;
  device: string;
  vehicle_type: string;
  distance_km: number;
  moving_h: number;
  idle_h: number;
  utilisation_pct: number;
  idle_pct: number | null;
  speeding_events: number;
  max_speed_kmh: number;
}

export interface ParkingLotKpi {
  municipality: string;
  lot: string;
  district: string;
  bays: number;
  capacity: number | null;
  occupancy_pct: number | null;
  arrivals: number;
  turnover_per_bay_day: number;
  mean_dwell_min: number | null;
}

const field = (name: string) => (r: WindowRow) => r.fields[name] ?? 0;

export function fleetKpis(rows: WindowRow[], range: TimeRange): VehicleKpi[] {
  const periodS = (range.to - range.from) / 1000;
  const out: VehicleKpi[] = [];
  for (const list of groupBy(rows, (r) => `${r.municipality}\u0000${r.device}`).values()) {
    const first = list[0]!;
    const moving = sum(list.map(field('moving_s')));
    const idle = sum(list.map(field('idle_s')));
    out.push({
      municipality: first.municipality,
      device: first.device,
      vehicle_type: first.tags.vehicleType ?? 'unknown',
      distance_km: round(sum(list.map(field('distance_km')))),
      moving_h: round(moving / 3600),
      idle_h: round(idle / 3600),
      utilisation_pct: round(((moving + idle) / periodS) * 100, 2),
      idle_pct: moving + idle > 0 ? round((idle / (moving + idle)) * 100, 2) : null,
      speeding_events: sum(list.map(field('speeding_events'))),
      max_speed_kmh: round(Math.max(0, ...list.map(field('max_speed_kmh'))), 1),
    });
  }
  return out.sort(byKeys<VehicleKpi>('municipality', 'device'));
}

export function parkingKpis(rows: WindowRow[], range: TimeRange): ParkingLotKpi[] {
  const days = (range.to - range.from) / 86_400_000;
  const windowS = WINDOW_MS.parking_15m / 1000;
  const out: ParkingLotKpi[] = [];
  for (const list of groupBy(rows, (r) => `${r.municipality}\u0000${r.tags.lot ?? 'unassigned'}`).values()) {
    const first = list[0]!;
    const bays = new Set(list.map((r) => r.device)).size;
    const arrivals = sum(list.map(field('arrivals')));
    const departures = sum(list.map(field('departures')));
    const capacity = list.find((r) => r.fields.capacity !== undefined)?.fields.capacity;
    out.push({
      municipality: first.municipality,
      lot: first.tags.lot ?? 'unassigned',
      district: first.tags.district ?? 'unassigned',
      bays,
      capacity: capacity ?? null,
      occupancy_pct: list.length > 0 ? round((sum(list.map(field('occupied_s'))) / (list.length * windowS)) * 100, 2) : null,
      arrivals,
      turnover_per_bay_day: round(arrivals / bays / days, 3),
      mean_dwell_min: departures > 0 ? round(sum(list.map(field('dwell_s_sum'))) / departures / 60, 2) : null,
    });
  }
  return out.sort(byKeys<ParkingLotKpi>('municipality', 'lot'));
}
