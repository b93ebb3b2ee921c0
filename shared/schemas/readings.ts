/**
 * The reading contract, defined once: the native payload fields per kind (docs/architecture.md),
 * their valid ranges, the canonical reading, and the normalised message the normaliser emits on
 * `telemetry.normalized` — one record per device message: the device named once, its canonical
 * readings in the order sent (docs/normalized-topic.md documents it for consumers outside).
 */
import { z } from 'zod';
import { MAX_EPOCH_MS } from './timestamp.ts';
import { VOCABULARY } from './kinds.ts';
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
const fleetCommon = { speed_kmh: z.number().optional(), ignition: z.boolean().optional(), fuel_pct: z.number().optional() };
/**
 * A vehicle's reading: where it was, or — in private use (shared/privacy/private-use.ts) — only
 * `private_use: true` with what may be kept, its position dropped by the normaliser.
 */
export const fleetValues = z.union([
  z.object({ lat: z.number(), lon: z.number(), heading_deg: z.number().optional(), ...fleetCommon }),
  z.object({ private_use: z.literal(true), ...fleetCommon }),
]);
export type FleetValues = z.infer<typeof fleetValues>;
/** Whether a vehicle's reading says where it was (not one in private use). */
export const located = (v: FleetValues): v is Extract<FleetValues, { lat: number }> => 'lat' in v;
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
 * A parser that checks a value against its own kind's schema directly: the same verdict as the
 * union's `safeParse`, but the union's dispatch cost as much as the checks themselves (3.0 against
 * 1.8 µs a reading). A value without a known kind goes through the union, for its error.
 */
function parserByKind<T>(ofKind: Record<Kind, z.ZodType<T>>, union: z.ZodType<T>): (raw: unknown) => z.ZodSafeParseResult<T> {
  return (raw) => {
    const kind: unknown = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
    if (typeof kind === 'string' && Object.hasOwn(ofKind, kind)) return ofKind[kind as Kind].safeParse(raw);
    return union.safeParse(raw);
  };
}

/** `canonicalReadingSchema.safeParse`, dispatched on the kind. */
export const parseCanonicalReading = parserByKind<CanonicalReading>(readingOfKind, canonicalReadingSchema);

/** What every reading of one device message shares: the device, named once, and where it came in. */
const messageDevice = {
  deviceId: identSchema,
  municipality: identSchema,
  receivedAt: base.receivedAt,
  gatewayId: z.string(),
  attrs: base.attrs,
};

/** One reading of a normalised message: its event time and canonical values. */
const messageReading = <V extends z.ZodType>(values: V) => z.object({ ts: base.ts, tsFromGateway: z.boolean(), values });

const messageOfKind = {
  energy: z.object({ kind: z.literal('energy'), ...messageDevice, readings: z.array(messageReading(energyValues)).min(1) }),
  fleet: z.object({ kind: z.literal('fleet'), ...messageDevice, readings: z.array(messageReading(fleetValues)).min(1) }),
  parking: z.object({ kind: z.literal('parking'), ...messageDevice, readings: z.array(messageReading(parkingValues)).min(1) }),
} satisfies Record<Kind, z.ZodType>;

/** A `telemetry.normalized` record's value. */
export const normalizedMessageSchema = z.discriminatedUnion('kind', [messageOfKind.energy, messageOfKind.fleet, messageOfKind.parking]);

export type NormalizedMessage = z.infer<typeof normalizedMessageSchema>;

/** `normalizedMessageSchema.safeParse`, dispatched on the kind (what the writer and the aggregator check each record with). */
export const parseNormalizedMessage = parserByKind<NormalizedMessage>(messageOfKind, normalizedMessageSchema);

/**
 * The message of one device's readings (all of one device message, so they share the device
 * fields), fields in a fixed order: the same readings always serialise to the same bytes.
 */
export function toNormalizedMessage(readings: readonly CanonicalReading[]): NormalizedMessage {
  const first = readings[0]!;
  return {
    kind: first.kind,
    deviceId: first.deviceId,
    municipality: first.municipality,
    receivedAt: first.receivedAt,
    gatewayId: first.gatewayId,
    attrs: first.attrs,
    readings: readings.map((r) => ({ ts: r.ts, tsFromGateway: r.tsFromGateway, values: r.values })),
  } as NormalizedMessage;
}

/** The message's readings as canonical readings (each with the device fields), in order. */
export function readingsOf(m: NormalizedMessage): CanonicalReading[] {
  return m.readings.map((r) => ({ kind: m.kind, deviceId: m.deviceId, municipality: m.municipality, ts: r.ts, tsFromGateway: r.tsFromGateway, receivedAt: m.receivedAt, gatewayId: m.gatewayId, attrs: m.attrs, values: r.values }) as CanonicalReading);
}

export type EnergyReading = Extract<CanonicalReading, { kind: 'energy' }>;
export type FleetReading = Extract<CanonicalReading, { kind: 'fleet' }>;
export type ParkingReading = Extract<CanonicalReading, { kind: 'parking' }>;

export { kindSchema };

/** A `telemetry.normalized` record as the project's stages read it, or where it fails their check. */
export type NormalizedRecord = { ok: true; message: NormalizedMessage } | { ok: false; field: string; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const refused = (field: string, reason: string): NormalizedRecord => ({ ok: false, field, reason });

/**
 * A `telemetry.normalized` record as the project's own stages read it (writer, aggregator, alarms).
 * Only the normaliser writes that topic — Kafka's ACLs give no other login WRITE on it, and the
 * embedded log is the process's own file — and it builds every record from readings the canonical
 * schemas accepted. So the readers do not validate each field again (zod's check of the whole
 * message was 15 % of the aggregator's CPU): they check what they rely on — the kind, the
 * device's names, each reading's time, its values finite numbers or booleans, the kind's presence
 * field — so a record that is not one (a bug, a version skew) is still a dead letter, never a crash
 * or an unwritable point. Consumers outside the project validate with `normalizedMessageSchema`.
 */
export function decodeNormalizedRecord(value: Buffer | null | undefined): NormalizedRecord {
  let m: unknown;
  try {
    m = JSON.parse(value?.toString('utf8') || 'null');
  } catch {
    return refused('(record)', 'not JSON');
  }
  if (!isObject(m)) return refused('(record)', 'not an object');
  const kind = m.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(VOCABULARY, kind)) return refused('kind', 'not a known kind');
  for (const name of ['deviceId', 'municipality'] as const) if (typeof m[name] !== 'string' || m[name] === '') return refused(name, 'not a name');
  // Any string, as the schema has it (the stages store nothing by it).
  if (typeof m.gatewayId !== 'string') return refused('gatewayId', 'not a name');
  if (!isFiniteNumber(m.receivedAt)) return refused('receivedAt', 'not a time');
  if (!isObject(m.attrs)) return refused('attrs', 'not an object');
  const readings = m.readings;
  if (!Array.isArray(readings) || readings.length === 0) return refused('readings', 'not a non-empty list');
  const presence = VOCABULARY[kind as Kind].presenceFields;
  for (let i = 0; i < readings.length; i++) {
    const r: unknown = readings[i];
    if (!isObject(r)) return refused(`readings.${i}`, 'not an object');
    if (!isFiniteNumber(r.ts)) return refused(`readings.${i}.ts`, 'not a time');
    if (typeof r.tsFromGateway !== 'boolean') return refused(`readings.${i}.tsFromGateway`, 'not a boolean');
    const values = r.values;
    if (!isObject(values)) return refused(`readings.${i}.values`, 'not an object');
    for (const k in values) if (!isFiniteNumber(values[k]) && typeof values[k] !== 'boolean') return refused(`readings.${i}.values.${k}`, 'not a finite number or a boolean');
    if (!presence.some((f) => Object.hasOwn(values, f))) return refused(`readings.${i}.values`, `has none of ${presence.join(', ')}`);
    // A position is both coordinates or neither (the aggregator and the store read them as a pair).
    if (Object.hasOwn(values, 'lat') !== Object.hasOwn(values, 'lon')) return refused(`readings.${i}.values`, 'has one coordinate of a position');
  }
  return { ok: true, message: m as NormalizedMessage };
}

/** A bus record's readings; undefined when it is not a normalised message (the stages dead-letter those). */
export function readingsOfRecord(value: Buffer | null | undefined): CanonicalReading[] | undefined {
  const r = decodeNormalizedRecord(value);
  return r.ok ? readingsOf(r.message) : undefined;
}
