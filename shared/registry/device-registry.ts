/**
 * The device registry: a JSON file (default `data/devices.json`) shared by the devices CLI, the
 * gateway (authentication) and the workers (enrichment). Writes are atomic (temp file + rename)
 * under a lock file, so concurrent CLIs and simulators cannot lose each other's updates.
 * Readers poll the file's stat, so a running gateway sees new and revoked devices without a restart.
 */
import { existsSync, readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import { withLock, writeJsonAtomic } from './locked-file.ts';
import { z } from 'zod';
import { identSchema, kindSchema, type DeviceAddress } from '../schemas/topics.ts';
import { generateSecret, hashSecret } from './secrets.ts';
import { ERROR_CODES } from '../errors.ts';

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

const registryFileSchema = z.object({ version: z.literal(1), devices: z.array(deviceRecordSchema) });

export const defaultRegistryPath = (dataDir = process.env.DATA_DIR ?? 'data') =>
  process.env.DEVICE_REGISTRY ?? join(dataDir, 'devices.json');

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly code = ERROR_CODES.REGISTRY;
}

export class DeviceRegistry {
  private devices = new Map<string, DeviceRecord>();
  private byEui = new Map<string, DeviceRecord>();
  /** inode, mtime and size: a rename-replaced file always has a new inode, so no change is missed. */
  private signature = '';
  private listeners = new Set<() => void>();

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.reload();
  }

  /** Re-reads the file if it changed; returns true when it did. */
  reload(): boolean {
    const st = existsSync(this.path) ? statSync(this.path) : undefined;
    const signature = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : 'absent';
    if (signature === this.signature) return false;
    this.signature = signature;
    this.devices = new Map(readRegistryFile(this.path).devices.map((d) => [d.id, d]));
    this.byEui = new Map([...this.devices.values()].filter((d) => d.devEui && !d.revokedAt).map((d) => [d.devEui!, d]));
    for (const l of this.listeners) l();
    return true;
  }

  get(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  /** The device if it is registered and not revoked. */
  active(id: string): DeviceRecord | undefined {
    const d = this.devices.get(id);
    return d && !d.revokedAt ? d : undefined;
  }

  /** The active device with this DevEUI (any case). */
  byDevEui(eui: string): DeviceRecord | undefined {
    return this.byEui.get(eui.toLowerCase());
  }

  list(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  /** Registers a device and returns its new secret (the only time it exists in clear). */
  async add(address: DeviceAddress, attributes: Record<string, string | number> = {}, ids: { devEui?: string } = {}): Promise<string> {
    const devEui = ids.devEui === undefined ? undefined : devEuiSchema.safeParse(ids.devEui);
    if (devEui && !devEui.success) throw new RegistryError(`--dev-eui '${ids.devEui}': a DevEUI is 16 hex digits`);
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    this.mutate((file) => {
      const existing = file.devices.find((d) => d.id === address.deviceId);
      if (existing && !existing.revokedAt) throw new RegistryError(`device '${address.deviceId}' is already registered`);
      const owner = devEui && file.devices.find((d) => d.devEui === devEui.data && !d.revokedAt && d.id !== address.deviceId);
      if (owner) throw new RegistryError(`DevEUI ${devEui.data} already belongs to device '${owner.id}'`);
      const record = deviceRecordSchema.parse({
        id: address.deviceId,
        municipality: address.municipality,
        kind: address.kind,
        secretHash,
        createdAt: new Date().toISOString(),
        attributes,
        ...(devEui ? { devEui: devEui.data } : {}),
      });
      file.devices = [...file.devices.filter((d) => d.id !== address.deviceId), record];
    });
    return secret;
  }

  /** Issues a new secret for a registered device; the old one stops working at once. */
  async rotate(id: string): Promise<string> {
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    this.mutate((file) => {
      const d = file.devices.find((x) => x.id === id && !x.revokedAt);
      if (!d) throw new RegistryError(`no active device '${id}'`);
      d.secretHash = secretHash;
    });
    return secret;
  }

  /**
   * Issues fresh secrets for many devices in one write: registers the missing (or revoked) ones
   * and rotates the others. Used by simulators that provision their own fleet.
   */
  async provision(entries: { address: DeviceAddress; attributes?: Record<string, string | number> }[]): Promise<Map<string, string>> {
    const issued = await Promise.all(
      entries.map(async (e) => {
        const secret = generateSecret();
        return { e, secret, secretHash: await hashSecret(secret) };
      }),
    );
    this.mutate((file) => {
      const byId = new Map(file.devices.map((d) => [d.id, d]));
      for (const { e, secretHash } of issued) {
        byId.set(
          e.address.deviceId,
          deviceRecordSchema.parse({
            id: e.address.deviceId,
            municipality: e.address.municipality,
            kind: e.address.kind,
            secretHash,
            createdAt: new Date().toISOString(),
            attributes: e.attributes ?? {},
          }),
        );
      }
      file.devices = [...byId.values()];
    });
    return new Map(issued.map(({ e, secret }) => [e.address.deviceId, secret]));
  }

  /** Pins the device's certificate (its SHA-256 fingerprint); any earlier one stops working. */
  setCertificate(id: string, fingerprint256: string): void {
    this.mutate((file) => {
      const d = file.devices.find((x) => x.id === id && !x.revokedAt);
      if (!d) throw new RegistryError(`no active device '${id}'`);
      d.certFingerprint = fingerprint256;
    });
  }

  revoke(id: string): void {
    this.mutate((file) => {
      const d = file.devices.find((x) => x.id === id);
      if (!d) throw new RegistryError(`no device '${id}'`);
      d.revokedAt ??= new Date().toISOString();
    });
  }

  /** Removes the device's entry altogether (an erasure request; revoking keeps the entry). */
  remove(id: string): void {
    this.mutate((file) => {
      const i = file.devices.findIndex((x) => x.id === id);
      if (i < 0) throw new RegistryError(`no device '${id}'`);
      file.devices.splice(i, 1);
    });
  }

  /**
   * Calls `onChange` whenever a reload finds the file changed (another process added or revoked a
   * device): on the file's poll, or on an explicit `reload()`.
   */
  watch(onChange: () => void, intervalMs = 500): () => void {
    const poll = () => {
      try {
        this.reload();
      } catch {
        // A half-written file cannot happen (atomic rename); an unreadable one keeps the last good state.
      }
    };
    this.listeners.add(onChange);
    watchFile(this.path, { interval: intervalMs }, poll);
    return () => {
      this.listeners.delete(onChange);
      unwatchFile(this.path, poll);
    };
  }

  private mutate(change: (file: z.infer<typeof registryFileSchema>) => void): void {
    withLock(this.path, () => {
      const file = readRegistryFile(this.path);
      change(file);
      writeJsonAtomic(this.path, file);
    });
    this.reload();
  }
}

function readRegistryFile(path: string): z.infer<typeof registryFileSchema> {
  if (!existsSync(path)) return { version: 1, devices: [] };
  const parsed = registryFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(`device registry ${path} is invalid at ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
