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
export const edgeRow = z.object({
  edge: z.string(),
  connected: z.boolean(),
  lastContactAt: z.string().nullable(),
  mode: z.enum(['direct', 'spooling', 'unknown']),
  since: z.string().nullable(),
  backlogBytes: z.number(),
  backlogRecords: z.number(),
  oldestUnsentAt: z.string().nullable(),
});

export const healthRow = z.object({
  municipality: z.string(),
  device: z.string(),
  kind: z.string(),
  last_seen: z.string().nullable(),
  silent_for_s: numOrNull,
  silent: z.boolean(),
});

export const locationReadRow = z.object({
  at: z.string(),
  key: z.string(),
  route: z.string(),
  vehicles: z.string().meta({ description: 'the vehicles the answer named, as it named them, space-separated' }),
  pseudonymous: z.boolean(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});

export const alarmRow = z.object({
  id: z.string().meta({ description: 'the alarm id' }),
  state: z.enum(['raised', 'acknowledged', 'cleared']),
  severity: z.string(),
  rule: z.string(),
  type: z.string(),
  kind: z.string(),
  deviceId: z.string().nullable().meta({ description: 'the device that raised it (a vehicle under its pseudonym without the fleet-ops scope); null for a car park' }),
  subject: z.string().meta({ description: 'the device, or the car park (`lot`) for a zone rule' }),
  raisedAt: z.string().meta({ description: 'when its condition began' }),
  clearedAt: z.string().nullable(),
  evidence: z.string().meta({ description: 'the readings that raised it, as JSON' }),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable().meta({ description: 'the id of the API key (or cli:<user>) that acknowledged it' }),
  comments: z.string().meta({ description: 'operators\' comments, as JSON: [{at, by, text}]' }),
});

/** What acknowledging or commenting an alarm answers: the alarm's notes. */
export const alarmNoteReply = z.object({
  id: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  comments: z.array(z.object({ at: z.string(), by: z.string(), text: z.string() })),
});

/** Every JSON KPI reply: the scope it answers for and its rows (CSV carries the rows only). */
export const kpiReply = <T extends z.ZodType>(row: T) =>
  z.object({
    municipality: z.string(),
    from: z.string().optional(),
    to: z.string().optional(),
    rows: z.array(row),
  });

/** Every `error` code the KPI API answers with, declared once (the OpenAPI document lists them). */
export const API_ERROR = {
  BAD_REQUEST: 'bad_request',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  RATE_LIMITED: 'rate_limited',
  INTERNAL: 'internal',
  BAD_URL: 'bad_url',
  URI_TOO_LONG: 'uri_too_long',
} as const;
export type ApiError = (typeof API_ERROR)[keyof typeof API_ERROR];
const apiErrors = Object.values(API_ERROR) as [ApiError, ...ApiError[]];

export const errorReply = z.object({ error: z.enum(apiErrors), message: z.string() });

/** An error's own code when it is one of the API's, else the one its status stands for. */
export const apiErrorOf = (code: unknown, status: number): ApiError => ((apiErrors as unknown[]).includes(code) ? (code as ApiError) : status >= 500 ? API_ERROR.INTERNAL : API_ERROR.BAD_REQUEST);
