/**
 * LoRaWAN uplinks as network servers deliver them → the device's reading in the native format,
 * which the normaliser then validates like any other. The network server has already run the
 * device's codec; its decoded object holds the measurements.
 *
 *   ChirpStack v4 (MQTT integration, `event/up`): `object` decoded, `time` when received.
 *   The Things Stack v3 (webhook `uplink_message`): `uplink_message.decoded_payload`,
 *   `uplink_message.received_at`.
 *
 * Measurements are taken under the kind's field names (`energy_wh`, `power_w`; `lat`, `lon`,
 * `speed_kmh`; `occupied`), or under the names a deployment maps them from
 * (`LORAWAN_FIELD_MAP`). Codecs often send a boolean as 0/1: taken as false/true.
 * Pure and total: any input gives a reading or a rejection naming the field.
 */
import { z } from 'zod';
import { nativeSchemas } from '../../shared/schemas/readings.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';
import type { Kind } from '../../shared/schemas/topics.ts';

/** Per kind: canonical field name → the name in the decoded object. */
export const fieldMapSchema = z.partialRecord(z.enum(['energy', 'fleet', 'parking']), z.record(z.string(), z.string().min(1)));
export type FieldMap = z.infer<typeof fieldMapSchema>;

export type UplinkSource = 'tts' | 'chirpstack';

export type UplinkResult = { ok: true; reading: Record<string, unknown> } | { ok: false; rejection: Rejection };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where each network server puts the decoded object and the receive time. */
const LAYOUT: Record<UplinkSource, { decoded: string[]; time: string[]; hint: string }> = {
  chirpstack: { decoded: ['object'], time: ['time'], hint: 'no codec on the device profile, or the codec failed' },
  tts: { decoded: ['uplink_message', 'decoded_payload'], time: ['uplink_message', 'received_at'], hint: 'no payload formatter on the application or device, or it failed' },
};

function at(body: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = body;
  for (const k of path) {
    if (!isObject(v) || !Object.hasOwn(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

const BOOLEAN_FIELDS = new Set(['ignition', 'occupied']);

export function uplinkReading(source: UplinkSource, body: unknown, kind: Kind, map: FieldMap = {}): UplinkResult {
  const layout = LAYOUT[source];
  const reject = (code: Rejection['code'], field: string, reason: string): UplinkResult => ({ ok: false, rejection: { code, field, reason } });
  if (!isObject(body)) return reject(REJECT.PAYLOAD_UNKNOWN_FORMAT, 'payload', `payload: not a ${source === 'tts' ? 'The Things Stack' : 'ChirpStack'} uplink (a JSON object expected)`);
  const decodedField = `payload.${layout.decoded.join('.')}`;
  const decoded = at(body, layout.decoded);
  if (decoded === undefined || decoded === null) return reject(REJECT.FIELD_INVALID, decodedField, `${decodedField}: missing — the uplink was not decoded (${layout.hint})`);
  if (!isObject(decoded)) return reject(REJECT.FIELD_INVALID, decodedField, `${decodedField}: not an object`);

  const names = map[kind] ?? {};
  const reading: Record<string, unknown> = {};
  for (const field of Object.keys(nativeSchemas[kind].shape)) {
    if (field === 'ts') continue;
    const from = names[field] ?? field;
    if (!Object.hasOwn(decoded, from)) continue;
    const v = decoded[from];
    reading[field] = BOOLEAN_FIELDS.has(field) && (v === 0 || v === 1) ? v === 1 : v;
  }
  const time = at(body, layout.time);
  // A missing time (proto3 JSON leaves out what is unset) means "when the gateway received it".
  if (time !== undefined) reading.ts = time;
  return { ok: true, reading };
}
