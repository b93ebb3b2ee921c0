/**
 * Response shapes of the KPI routes (zod), used to serialise replies and to document them in the
 * OpenAPI document: a field added to a KPI without being added here fails the serialiser, so the
 * document cannot drift from what the routes send.
 */
import { z } from 'zod';

const num = z.number();
const numOrNull = z.number().nullable();

export const energyRow = z.object({ period: z.string(), municipality: z.string(), group: z.string(), kwh: num, peak_kw: num, meters: num });
export const savingsRow = z.object({ municipality: z.string(), group: z.string(), baseline_kwh_per_day: num, current_kwh_per_day: num, savings_pct: numOrNull });
export const vehicleRow = z.object({
  municipality: z.string(),
  device: z.string(),
  vehicle_type: z.string(),
  distance_km: num,
  moving_h: num,
  idle_h: num,
  utilisation_pct: num,
  idle_pct: numOrNull,
  speeding_events: num,
  max_speed_kmh: num,
});
export const parkingRow = z.object({
  municipality: z.string(),
  lot: z.string(),
  district: z.string(),
  bays: num,
  capacity: numOrNull,
  occupancy_pct: numOrNull,
  arrivals: num,
  turnover_per_bay_day: num,
  mean_dwell_min: numOrNull,
});
export const healthRow = z.object({
  municipality: z.string(),
  device: z.string(),
  kind: z.string(),
  last_seen: z.string().nullable(),
  silent_for_s: numOrNull,
  silent: z.boolean(),
});

/** Every JSON KPI reply: the scope it answers for and its rows (CSV carries the rows only). */
export const kpiReply = <T extends z.ZodType>(row: T) =>
  z.object({
    municipality: z.string(),
    from: z.string().optional(),
    to: z.string().optional(),
    rows: z.array(row),
  });

export const errorReply = z.object({ error: z.string(), message: z.string() });
