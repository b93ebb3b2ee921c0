/**
 * The normaliser's pure core: one `telemetry.raw` record → canonical readings and rejections.
 *   parse envelope → decode payload → (a network server's uplink: its decoded object)
 *   → detect format (native | SenML) → validate per kind
 *   → timestamp → enrich from the registry
 * Every rejection names the field and why, so the dead-letter record explains itself.
 */
import { rawEnvelopeSchema, decodePayload, type RawEnvelope } from '../../shared/schemas/envelope.ts';
import { nativeSchemas, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import { parseTimestamp } from '../../shared/schemas/timestamp.ts';
import { looksLikeSenml, senmlToReadings } from './senml.ts';
import { uplinkReading, type FieldMap } from './lorawan.ts';
import { POSITION_FIELDS, type PrivateUsePolicy } from '../../shared/privacy/private-use.ts';

export type { Rejection };

export interface Normalized {
  envelope: RawEnvelope | undefined;
  readings: CanonicalReading[];
  rejections: Rejection[];
  /** Readings of a vehicle in private use whose position was dropped. */
  positionsDropped?: number;
}

export interface NormalizeOptions {
  /** How far ahead of the gateway's clock a device timestamp may be. */
  maxFutureMs: number;
  /** Most readings one message may carry (a native array's items; SenML records count one eighth). */
  maxReadings?: number;
  attributesOf: (deviceId: string) => Record<string, string | number> | undefined;
  /** Names of fields in LoRaWAN uplinks' decoded objects, where they are not ours. */
  fieldMap?: FieldMap;
  /** Which vehicles' readings are in private use (their positions are dropped). */
  privateUse?: PrivateUsePolicy;
}

/** A SenML reading takes one record per field: up to 8 records make one reading. */
const SENML_RECORDS_PER_READING = 8;
export const DEFAULT_MAX_READINGS = 1000;

const reject = (envelope: RawEnvelope | undefined, code: Rejection['code'], field: string, reason: string): Normalized => ({
  envelope,
  readings: [],
  rejections: [{ code, field, reason }],
});

/** A zod issue path as a field name (`lat`, `ts`, `(reading)` for the object itself). */
const fieldOf = (path: PropertyKey[]) => path.map(String).join('.') || '(reading)';

export function normalizeRecord(value: string, opts: NormalizeOptions): Normalized {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return reject(undefined, REJECT.ENVELOPE_INVALID, 'envelope', 'envelope: not JSON');
  }
  const env = rawEnvelopeSchema.safeParse(raw);
  if (!env.success) {
    const issue = env.error.issues[0]!;
    return reject(undefined, REJECT.ENVELOPE_INVALID, `envelope.${fieldOf(issue.path)}`, `envelope: ${fieldOf(issue.path)}: ${issue.message}`);
  }
  const envelope = env.data;
  let body: unknown;
  try {
    body = JSON.parse(decodePayload(envelope).toString('utf8'));
  } catch (err) {
    return reject(envelope, REJECT.PAYLOAD_NOT_JSON, 'payload', `payload: invalid JSON (${(err as Error).message.slice(0, 80)})`);
  }

  // A network server's uplink event carries one reading of the device, decoded by its codec.
  if (envelope.source === 'tts' || envelope.source === 'chirpstack') {
    const uplink = uplinkReading(envelope.source, body, envelope.kind, opts.fieldMap);
    if (!uplink.ok) return { envelope, readings: [], rejections: [uplink.rejection] };
    body = uplink.reading;
  }

  const maxReadings = opts.maxReadings ?? DEFAULT_MAX_READINGS;
  let items: unknown[];
  if (looksLikeSenml(body)) {
    if (body.length > maxReadings * SENML_RECORDS_PER_READING) {
      return reject(envelope, REJECT.PAYLOAD_TOO_MANY_READINGS, 'payload', `payload: ${body.length} SenML records, more than ${maxReadings * SENML_RECORDS_PER_READING} (${maxReadings} readings) in one message`);
    }
    const senml = senmlToReadings(body, envelope.receivedAt);
    if (!senml.ok) return { envelope, readings: [], rejections: [senml.rejection] };
    if (senml.deviceId && senml.deviceId !== envelope.deviceId) {
      return reject(envelope, REJECT.SENML_INVALID, 'payload.bn', `payload: senml bn names device '${senml.deviceId}', not the publishing device`);
    }
    items = senml.readings;
  } else if (Array.isArray(body)) {
    items = body;
  } else if (typeof body === 'object' && body !== null) {
    items = [body];
  } else {
    return reject(envelope, REJECT.PAYLOAD_UNKNOWN_FORMAT, 'payload', `payload: unknown format (a JSON ${body === null ? 'null' : typeof body}; expected a reading object, an array of them, or SenML)`);
  }
  if (items.length === 0) return reject(envelope, REJECT.PAYLOAD_UNKNOWN_FORMAT, 'payload', 'payload: empty array');
  if (items.length > maxReadings) {
    return reject(envelope, REJECT.PAYLOAD_TOO_MANY_READINGS, 'payload', `payload: ${items.length} readings, more than ${maxReadings} in one message`);
  }

  const attrs = opts.attributesOf(envelope.deviceId) ?? {};
  const privateUse = envelope.kind === 'fleet' && opts.privateUse?.mayBePrivate(envelope.municipality, attrs) ? opts.privateUse : undefined;
  const out: Normalized = { envelope, readings: [], rejections: [], ...(privateUse ? { positionsDropped: 0 } : {}) };
  const many = items.length > 1 || Array.isArray(body);
  items.forEach((item, i) => {
    const at = many ? { index: i } : {};
    const parsed = nativeSchemas[envelope.kind].safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = fieldOf(issue.path);
      out.rejections.push({ code: REJECT.FIELD_INVALID, field, reason: `${field}: ${issue.message}`, ...at });
      return;
    }
    const { ts: tsIn, ...values } = parsed.data as { ts?: number | string } & Record<string, unknown>;
    let ts = envelope.receivedAt;
    if (tsIn !== undefined) {
      const t = parseTimestamp(tsIn, envelope.receivedAt, opts.maxFutureMs);
      if (!t.ok) return void out.rejections.push({ ...t.rejection, ...at });
      ts = t.ms;
    }
    if (privateUse?.isPrivate(envelope.municipality, attrs, ts)) {
      for (const f of POSITION_FIELDS) delete values[f];
      values.private_use = true;
      out.positionsDropped!++;
    }
    out.readings.push({
      kind: envelope.kind,
      deviceId: envelope.deviceId,
      municipality: envelope.municipality,
      ts,
      tsFromGateway: tsIn === undefined,
      receivedAt: envelope.receivedAt,
      gatewayId: envelope.gatewayId,
      attrs,
      values,
    } as CanonicalReading);
  });
  return out;
}
