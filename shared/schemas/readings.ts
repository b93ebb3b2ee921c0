/**
 * The reading contract, defined once: the native payload fields per kind (docs/architecture.md), their valid
 * ranges, and the canonical reading that the normaliser emits on `telemetry.normalized`.
 */
import { z } from 'zod';
import { MAX_EPOCH_MS } from './timestamp.ts';
import { identSchema, kindSchema, type Kind } from './topics.ts';

/** `ts`: epoch ms, epoch s or ISO-8601 (validated and converted by `parseTimestamp`). */
const tsInput = z.union([z.number(), z.string()]);

const num = (min: number, max: number) => z.number().finite().min(min).max(max);

export const nativeSchemas = {
  energy: z.object({
    ts: tsInput.optional(),
    energy_wh: num(0, 1e13),
    power_w: num(-1e8, 1e8).optional(),
    voltage_v: num(0, 1e6).optional(),
  }),
  fleet: z.object({
    ts: tsInput.optional(),
    lat: num(-90, 90),
    lon: num(-180, 180),
    speed_kmh: num(0, 400).optional(),
    heading_deg: num(0, 360).optional(),
    ignition: z.boolean().optional(),
    fuel_pct: num(0, 100).optional(),
  }),
  parking: z.object({
    ts: tsInput.optional(),
    occupied: z.boolean(),
  }),
} satisfies Record<Kind, z.ZodType>;

/** The canonical values of each kind (canonical units: Wh, W, V, degrees, km/h, %). */
export const energyValues = z.object({ energy_wh: z.number(), power_w: z.number().optional(), voltage_v: z.number().optional() });
export const fleetValues = z.object({
  lat: z.number(),
  lon: z.number(),
  speed_kmh: z.number().optional(),
  heading_deg: z.number().optional(),
  ignition: z.boolean().optional(),
  fuel_pct: z.number().optional(),
});
export const parkingValues = z.object({ occupied: z.boolean() });

const base = {
  deviceId: identSchema,
  municipality: identSchema,
  /** Event time, epoch ms. */
  ts: z.number().int().min(0).max(MAX_EPOCH_MS),
  /** True when the device sent no timestamp and `ts` is the gateway's receive time. */
  tsFromGateway: z.boolean(),
  receivedAt: z.number().int().min(0).max(MAX_EPOCH_MS),
  gatewayId: z.string(),
  /** Registry attributes for grouping (district, building, circuit, lot, vehicleType, capacity…). */
  attrs: z.record(z.string(), z.union([z.string(), z.number()])),
};

/** Each kind's canonical values schema, by kind. */
export const valuesOfKind = { energy: energyValues, fleet: fleetValues, parking: parkingValues } as const;

/** The canonical reading of each kind. */
const readingOfKind = {
  energy: z.object({ ...base, kind: z.literal('energy'), values: energyValues }),
  fleet: z.object({ ...base, kind: z.literal('fleet'), values: fleetValues }),
  parking: z.object({ ...base, kind: z.literal('parking'), values: parkingValues }),
} satisfies Record<Kind, z.ZodType>;

export const canonicalReadingSchema = z.discriminatedUnion('kind', [readingOfKind.energy, readingOfKind.fleet, readingOfKind.parking]);

export type CanonicalReading = z.infer<typeof canonicalReadingSchema>;

/**
 * `canonicalReadingSchema.safeParse`, checking a record against its own kind's schema directly:
 * the same verdict, but the union's dispatch cost as much as the checks themselves (3.0 against
 * 1.8 µs a reading), and the writer and the aggregator check every reading. A record without a
 * known kind goes through the union, for its error.
 */
export function parseCanonicalReading(raw: unknown): z.ZodSafeParseResult<CanonicalReading> {
  const kind: unknown = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
  if (typeof kind === 'string' && Object.hasOwn(readingOfKind, kind)) return readingOfKind[kind as Kind].safeParse(raw);
  return canonicalReadingSchema.safeParse(raw);
}
export type EnergyReading = Extract<CanonicalReading, { kind: 'energy' }>;
export type FleetReading = Extract<CanonicalReading, { kind: 'fleet' }>;
export type ParkingReading = Extract<CanonicalReading, { kind: 'parking' }>;

export { kindSchema };
