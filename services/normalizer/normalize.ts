/**
 * The normaliser's pure core: one `telemetry.raw` record → canonical readings and rejections.
 *   parse envelope → decode payload → detect format (native | SenML) → validate per kind
 *   → timestamp → enrich from the registry
 * Every rejection names the field and why, so the dead-letter record explains itself.
 */
import { rawEnvelopeSchema, decodePayload, type RawEnvelope } from '../../shared/schemas/envelope.ts';
import { nativeSchemas, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { parseTimestamp } from '../../shared/schemas/timestamp.ts';
import { looksLikeSenml, senmlToReadings } from './senml.ts';

export interface Rejection {
  reason: string;
  /** Index of the reading inside an array payload; absent when the whole record was rejected. */
  index?: number;
}

export interface Normalized {
  envelope: RawEnvelope | undefined;
  readings: CanonicalReading[];
  rejections: Rejection[];
}

export interface NormalizeOptions {
  /** How far ahead of the gateway's clock a device timestamp may be. */
  maxFutureMs: number;
  attributesOf: (deviceId: string) => Record<string, string | number> | undefined;
}

const reject = (envelope: RawEnvelope | undefined, reason: string): Normalized => ({ envelope, readings: [], rejections: [{ reason }] });

export function normalizeRecord(value: string, opts: NormalizeOptions): Normalized {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return reject(undefined, 'envelope: not JSON');
  }
  const env = rawEnvelopeSchema.safeParse(raw);
  if (!env.success) {
    const issue = env.error.issues[0]!;
    return reject(undefined, `envelope: ${issue.path.join('.')}: ${issue.message}`);
  }
  const envelope = env.data;
  let body: unknown;
  try {
    body = JSON.parse(decodePayload(envelope).toString('utf8'));
  } catch (err) {
    return reject(envelope, `payload: invalid JSON (${(err as Error).message.slice(0, 80)})`);
  }

  let items: unknown[];
  if (looksLikeSenml(body)) {
    const senml = senmlToReadings(body, envelope.receivedAt);
    if (!senml.ok) return reject(envelope, `payload: ${senml.reason}`);
    if (senml.deviceId && senml.deviceId !== envelope.deviceId) {
      return reject(envelope, `payload: senml bn names device '${senml.deviceId}', not the publishing device`);
    }
    items = senml.readings;
  } else if (Array.isArray(body)) {
    items = body;
  } else if (typeof body === 'object' && body !== null) {
    items = [body];
  } else {
    return reject(envelope, `payload: unknown format (a JSON ${body === null ? 'null' : typeof body}; expected a reading object, an array of them, or SenML)`);
  }
  if (items.length === 0) return reject(envelope, 'payload: empty array');

  const out: Normalized = { envelope, readings: [], rejections: [] };
  const attrs = opts.attributesOf(envelope.deviceId) ?? {};
  const many = items.length > 1 || Array.isArray(body);
  items.forEach((item, i) => {
    const at = many ? { index: i } : {};
    const parsed = nativeSchemas[envelope.kind].safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || '(reading)';
      out.rejections.push({ reason: `${field}: ${issue.message}`, ...at });
      return;
    }
    const { ts: tsIn, ...values } = parsed.data as { ts?: number | string } & Record<string, unknown>;
    let ts = envelope.receivedAt;
    if (tsIn !== undefined) {
      const t = parseTimestamp(tsIn, envelope.receivedAt, opts.maxFutureMs);
      if (!t.ok) return void out.rejections.push({ reason: t.reason, ...at });
      ts = t.ms;
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
