/**
 * The device registry: who may connect (salted secret hashes, certificate pins, DevEUIs) and what
 * readings are enriched with (attributes). Used by the devices CLI, the gateway (authentication)
 * and the workers (enrichment). Its entries live in a source (`registry-source.ts`): a JSON file
 * (default `data/devices.json`; `npm start`, one machine) or the central registry on the bus
 * that every service materialises (`openDeviceRegistry` chooses). Readers see another process's
 * adds and revocations without a restart.
 */
import { join } from 'node:path';
import type { DeviceAddress } from '../schemas/topics.ts';
import { devEuiSchema, deviceRecordSchema, type DeviceRecord } from './device-record.ts';
import { FileRegistrySource, RegistryError, type RegistryChange, type RegistrySource } from './registry-source.ts';
import { generateSecret, hashSecret } from './secrets.ts';

export { devEuiSchema, deviceAttributesSchema, deviceRecordSchema, type DeviceRecord } from './device-record.ts';
export { RegistryError, type RegistrySource } from './registry-source.ts';

export const defaultRegistryPath = (dataDir = process.env.DATA_DIR ?? 'data') =>
  process.env.DEVICE_REGISTRY ?? join(dataDir, 'devices.json');

export class DeviceRegistry {
  private devices = new Map<string, DeviceRecord>();
  private byEui = new Map<string, DeviceRecord>();
  private listeners = new Set<() => void>();

  readonly source: RegistrySource;
  /** Where the entries live (a file's path, or the central registry's topic), for start-up lines. */
  readonly path: string;

  /** Only these municipalities' devices are seen (a town's edge); all when absent. */
  private readonly municipalities: readonly string[] | undefined;

  /** A path is a registry file's; anything else is a source (the central registry). */
  constructor(source: string | RegistrySource, o: { municipalities?: readonly string[] | undefined } = {}) {
    this.source = typeof source === 'string' ? new FileRegistrySource(source) : source;
    this.municipalities = o.municipalities;
    this.path = this.source.where;
    this.reload();
  }

  /** Takes the source's devices if they changed; returns true when they did. */
  reload(): boolean {
    const changed = this.source.changed();
    if (changed === undefined) return false;
    const seen = this.municipalities ? changed.filter((d) => this.municipalities!.includes(d.municipality)) : changed;
    this.devices = new Map(seen.map((d) => [d.id, d]));
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
    await this.mutate((devices) => {
      const existing = devices.find((d) => d.id === address.deviceId);
      if (existing && !existing.revokedAt) throw new RegistryError(`device '${address.deviceId}' is already registered`);
      const owner = devEui && devices.find((d) => d.devEui === devEui.data && !d.revokedAt && d.id !== address.deviceId);
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
      return [...devices.filter((d) => d.id !== address.deviceId), record];
    });
    return secret;
  }

  /** Issues a new secret for a registered device; the old one stops working at once. */
  async rotate(id: string): Promise<string> {
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    await this.mutate((devices) => {
      const d = devices.find((x) => x.id === id && !x.revokedAt);
      if (!d) throw new RegistryError(`no active device '${id}'`);
      return devices.map((x) => (x === d ? { ...d, secretHash } : x));
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
    await this.mutate((devices) => {
      const byId = new Map(devices.map((d) => [d.id, d]));
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
      return [...byId.values()];
    });
    return new Map(issued.map(({ e, secret }) => [e.address.deviceId, secret]));
  }

  /** Pins the device's certificate (its SHA-256 fingerprint); any earlier one stops working. */
  setCertificate(id: string, fingerprint256: string): Promise<void> {
    return this.mutate((devices) => {
      const d = devices.find((x) => x.id === id && !x.revokedAt);
      if (!d) throw new RegistryError(`no active device '${id}'`);
      return devices.map((x) => (x === d ? { ...d, certFingerprint: fingerprint256 } : x));
    });
  }

  revoke(id: string): Promise<void> {
    return this.mutate((devices) => {
      const d = devices.find((x) => x.id === id);
      if (!d) throw new RegistryError(`no device '${id}'`);
      return devices.map((x) => (x === d ? { ...d, revokedAt: d.revokedAt ?? new Date().toISOString() } : x));
    });
  }

  /** Removes the device's entry altogether (an erasure request; revoking keeps the entry). */
  remove(id: string): Promise<void> {
    return this.mutate((devices) => {
      if (!devices.some((x) => x.id === id)) throw new RegistryError(`no device '${id}'`);
      return devices.filter((x) => x.id !== id);
    });
  }

  /**
   * Calls `onChange` whenever a reload finds the devices changed (another process added or
   * revoked one): on the source's notice (a file's poll, the central registry's next record), or
   * on an explicit `reload()`.
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
    const stop = this.source.watch(poll, intervalMs);
    return () => {
      this.listeners.delete(onChange);
      stop();
    };
  }

  close(): Promise<void> {
    return this.source.close();
  }

  /**
   * One change through the source. A file applies it at once — so a caller that does not wait
   * still sees it — the central registry once this process has read it back.
   */
  private mutate(change: RegistryChange): Promise<void> {
    const applied = this.source.update(change);
    if (applied === undefined) {
      this.reload();
      return Promise.resolve();
    }
    return applied.then(() => void this.reload());
  }
}
