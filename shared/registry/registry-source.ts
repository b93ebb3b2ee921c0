/**
 * Where the device registry's entries live, behind one interface: a JSON file (`npm start`, a
 * single machine, the tests' own registries) or the central registry on the bus
 * (`shared/kafka/registry-topic.ts`: one compacted topic every service materialises, wherever it
 * runs). `DeviceRegistry` keeps the indexes and the rules (one active id, one owner per DevEUI);
 * a source only stores and tells of changes.
 */
import { existsSync, readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';
import { withLock, writeJsonAtomic } from './locked-file.ts';
import { deviceRecordSchema, type DeviceRecord } from './device-record.ts';

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly code = ERROR_CODES.REGISTRY;
}

/** A change to the registry: the devices as they are → as they should be (may throw a RegistryError). */
export type RegistryChange = (devices: DeviceRecord[]) => DeviceRecord[];

export interface RegistrySource {
  /** Where it is, for a start-up line and errors (no secret). */
  readonly where: string;
  /** The devices if they changed since the last call; undefined when they did not. Cheap: called per connection. */
  changed(): DeviceRecord[] | undefined;
  /**
   * Applies a change as one update. A file applies it before returning (undefined); the central
   * registry returns a promise that resolves once this process sees the change.
   */
  update(change: RegistryChange): void | Promise<void>;
  /** Calls `poll` whenever the devices may have changed; returns the way to stop. */
  watch(poll: () => void, intervalMs: number): () => void;
  close(): Promise<void>;
}

const registryFileSchema = z.object({ version: z.literal(1), devices: z.array(deviceRecordSchema) });

/**
 * The registry as a JSON file. Writes are atomic (temp file + rename) under a lock file, so
 * concurrent CLIs and simulators cannot lose each other's updates; readers look at the file's stat
 * (inode, mtime and size: a rename-replaced file always has a new inode), so a running gateway
 * sees new and revoked devices without a restart.
 */
export class FileRegistrySource implements RegistrySource {
  readonly where: string;
  readonly path: string;
  private signature = '';

  constructor(path: string) {
    this.path = path;
    this.where = path;
  }

  changed(): DeviceRecord[] | undefined {
    const st = existsSync(this.path) ? statSync(this.path) : undefined;
    const signature = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : 'absent';
    if (signature === this.signature) return undefined;
    this.signature = signature;
    return readRegistryFile(this.path).devices;
  }

  update(change: RegistryChange): void {
    withLock(this.path, () => writeRegistryFile(this.path, change(readRegistryFile(this.path).devices)));
  }

  watch(poll: () => void, intervalMs: number): () => void {
    watchFile(this.path, { interval: intervalMs }, poll);
    return () => unwatchFile(this.path, poll);
  }

  async close(): Promise<void> {}
}

/** Writes a registry file (atomically, mode 0600: it holds hashes). */
export function writeRegistryFile(path: string, devices: DeviceRecord[]): void {
  writeJsonAtomic(path, { version: 1, devices });
}

/** Reads a registry file (none: no devices); a RegistryError names what is wrong with it. */
export function readRegistryFile(path: string): z.infer<typeof registryFileSchema> {
  if (!existsSync(path)) return { version: 1, devices: [] };
  const parsed = registryFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(`device registry ${path} is invalid at ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
