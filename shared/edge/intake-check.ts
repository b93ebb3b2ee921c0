/**
 * The centre's check of what an edge sends (pure, so the rules are tested alone): a record on an
 * edge's topic is passed on only if it is a well-formed raw envelope, keyed by its device, from
 * that edge (`gatewayId`), for a municipality in the edge's scope, about a device the registry
 * gives to that municipality as that kind. Anything else is refused with the reason. An edge's
 * status records and its own dead letters are recognised by their keys (no device id has a colon).
 * Never throws, whatever the bytes.
 */
import { parseJsonText } from '../json-text.ts';
import type { DeviceRecord } from '../registry/device-record.ts';
import { rawEnvelopeSchema, type RawEnvelope } from '../schemas/envelope.ts';
import { REJECT, type Rejection } from '../schemas/rejections.ts';
import { deadLetterSchema } from '../schemas/deadletter.ts';
import { EDGE_DEADLETTER_KEY_PREFIX, EDGE_STATUS_KEY_PREFIX, edgeStatusSchema, type EdgeStatus } from './status.ts';

export type EdgeVerdict =
  | { verdict: 'forward'; envelope: RawEnvelope }
  | { verdict: 'status'; status: EdgeStatus }
  /** The edge's own dead letter, to pass on to the dead-letter topic under this key. */
  | { verdict: 'deadletter'; key: string }
  | { verdict: 'refuse'; rejection: Rejection; envelope?: RawEnvelope };

export interface EdgeRecord {
  /** The edge whose topic the record was read from (its login is the only one that may write there). */
  edgeId: string;
  /** The municipalities it may send. */
  scope: readonly string[];
  key: string | undefined;
  value: string;
}

const refuse = (code: Rejection['code'], field: string, reason: string, envelope?: RawEnvelope): EdgeVerdict => ({ verdict: 'refuse', rejection: { code, field, reason }, ...(envelope ? { envelope } : {}) });

export function checkEdgeRecord(r: EdgeRecord, deviceOf: (id: string) => DeviceRecord | undefined): EdgeVerdict {
  if (r.key?.startsWith(EDGE_STATUS_KEY_PREFIX)) {
    const s = parseJsonText(r.value, edgeStatusSchema);
    if (!s.ok) return refuse(REJECT.ENVELOPE_INVALID, 'status', `edge status: ${s.error}`);
    if (s.value.edgeId !== r.edgeId || r.key !== `${EDGE_STATUS_KEY_PREFIX}${r.edgeId}`) return refuse(REJECT.EDGE_SCOPE, 'status.edgeId', `edge status: edge '${r.edgeId}' reported as '${s.value.edgeId}'`);
    return { verdict: 'status', status: s.value };
  }
  if (r.key?.startsWith(EDGE_DEADLETTER_KEY_PREFIX)) {
    const d = parseJsonText(r.value, deadLetterSchema);
    if (!d.ok) return refuse(REJECT.ENVELOPE_INVALID, 'deadletter', `edge dead letter: ${d.error}`);
    const { municipality, deviceId } = d.value;
    if (municipality !== undefined && !r.scope.includes(municipality)) return refuse(REJECT.EDGE_SCOPE, 'deadletter.municipality', `edge '${r.edgeId}' may report ${r.scope.join(', ')}'s dead letters, not ${municipality}'s`);
    const device = deviceId === undefined ? undefined : deviceOf(deviceId);
    if (deviceId !== undefined && (!device || !r.scope.includes(device.municipality))) return refuse(REJECT.EDGE_SCOPE, 'deadletter.deviceId', `edge '${r.edgeId}' reported a dead letter of device '${deviceId}', not one of its towns'`);
    return { verdict: 'deadletter', key: deviceId ?? 'unknown' };
  }
  const e = parseJsonText(r.value, rawEnvelopeSchema);
  if (!e.ok) return refuse(REJECT.ENVELOPE_INVALID, 'envelope', `envelope: ${e.error}`);
  const env = e.value;
  if (r.key !== env.deviceId) return refuse(REJECT.DEVICE_MISMATCH, 'key', `the record's key is not its envelope's device '${env.deviceId}'`, env);
  if (env.gatewayId !== r.edgeId) return refuse(REJECT.EDGE_SCOPE, 'envelope.gatewayId', `edge '${r.edgeId}' sent a record as gateway '${env.gatewayId}'`, env);
  if (!r.scope.includes(env.municipality)) {
    return refuse(REJECT.EDGE_SCOPE, 'envelope.municipality', `edge '${r.edgeId}' may send ${r.scope.join(', ')}'s readings, not ${env.municipality}'s`, env);
  }
  const device = deviceOf(env.deviceId);
  if (!device) return refuse(REJECT.UNKNOWN_DEVICE, 'envelope.deviceId', `device '${env.deviceId}' is not in the registry`, env);
  if (device.municipality !== env.municipality || device.kind !== env.kind) {
    return refuse(REJECT.EDGE_SCOPE, 'envelope.deviceId', `device '${env.deviceId}' is ${device.municipality}'s ${device.kind} device, not ${env.municipality}'s ${env.kind}`, env);
  }
  return { verdict: 'forward', envelope: env };
}
