/**
 * The value of a `telemetry.raw` record (docs/architecture.md): who sent it, where it came in, and the
 * payload exactly as received. The payload is kept as text (base64 when it is not UTF-8) so the
 * normaliser can dead-letter the original bytes; the gateway does not parse it.
 */
import { z } from 'zod';
import { MAX_EPOCH_MS } from './timestamp.ts';
import { identSchema, kindSchema, type DeviceAddress } from './topics.ts';

/**
 * Where a record came in: a device over MQTT or HTTP, or a LoRaWAN network server (ChirpStack's
 * MQTT integration, The Things Stack's webhook) whose payload is its uplink event, not the device's.
 */
export const SOURCES = ['mqtt', 'http', 'tts', 'chirpstack'] as const;
export type Source = (typeof SOURCES)[number];

export const rawEnvelopeSchema = z.object({
  gatewayId: z.string().min(1),
  /** When the gateway accepted the publish, epoch milliseconds. */
  receivedAt: z.number().int().nonnegative().max(MAX_EPOCH_MS),
  municipality: identSchema,
  kind: kindSchema,
  deviceId: identSchema,
  payload: z.string(),
  payloadEncoding: z.enum(['utf8', 'base64']).default('utf8'),
  /** Absent in records written before sources other than MQTT existed. */
  source: z.enum(SOURCES).default('mqtt'),
});

export type RawEnvelope = z.infer<typeof rawEnvelopeSchema>;

/** Strict UTF-8 in one pass (no re-encode to compare): invalid bytes throw; a BOM is kept. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function encodePayload(bytes: Buffer): Pick<RawEnvelope, 'payload' | 'payloadEncoding'> {
  try {
    return { payload: strictUtf8.decode(bytes), payloadEncoding: 'utf8' };
  } catch {
    return { payload: bytes.toString('base64'), payloadEncoding: 'base64' };
  }
}

/** The `telemetry.raw` value for a payload that passed the gateway's checks. */
export function rawEnvelope(gatewayId: string, device: DeviceAddress, bytes: Buffer, source: Source, receivedAt: number): RawEnvelope {
  return { gatewayId, receivedAt, municipality: device.municipality, kind: device.kind, deviceId: device.deviceId, ...encodePayload(bytes), source };
}

export const decodePayload = (e: Pick<RawEnvelope, 'payload' | 'payloadEncoding'>): Buffer =>
  Buffer.from(e.payload, e.payloadEncoding === 'base64' ? 'base64' : 'utf8');
