/** One device's entry in the registry, wherever the registry lives (a file, the central topic). */
import { z } from 'zod';
import { identSchema, kindSchema } from '../schemas/topics.ts';

/** Descriptive attributes used for enrichment (district, building, circuit, lot, vehicle type, capacity…). */
export const deviceAttributesSchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** A LoRaWAN DevEUI: 16 hex digits, kept lower-case (network servers write either case). */
export const devEuiSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'a DevEUI is 16 hex digits')
  .transform((s) => s.toLowerCase());

export const deviceRecordSchema = z.object({
  id: identSchema,
  municipality: identSchema,
  kind: kindSchema,
  secretHash: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
  attributes: deviceAttributesSchema.default({}),
  /** The LoRaWAN DevEUI, for devices whose uplinks come through a network server. */
  devEui: devEuiSchema.optional(),
  /**
   * SHA-256 fingerprint of the device's current X.509 certificate (`AB:CD:…`): a certificate is
   * this device's only while it is the one pinned here — issuing a new one retires the old.
   */
  certFingerprint: z.string().optional(),
});
export type DeviceRecord = z.infer<typeof deviceRecordSchema>;
