/**
 * The logins this gateway has verified, kept on its disk so a restart among thousands of devices
 * does not cost a full scrypt check per device (about 40 ms of a core each: 5,000 devices would
 * wait over a minute). For each device it holds the registry hash it verified against and its
 * own salted scrypt hash of the secret, at a lower cost (`SECRET_COST.verifiedLogin`). A device's
 * next login after a restart is checked against that (about 2 ms); a rotated secret changes the
 * registry hash, so the entry no longer applies; a revoked device is refused before any hash.
 *
 * Written atomically (0600) at most every `flushMs` while it changes, and on close. A lost write
 * only costs full checks again: nothing depends on it for correctness.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../../shared/logging.ts';
import { writeJsonAtomic } from '../../shared/registry/locked-file.ts';
import { hashSecret, SECRET_COST, verifySecret } from '../../shared/registry/secrets.ts';

const fileSchema = z.object({ version: z.literal(1), logins: z.record(z.string(), z.object({ registryHash: z.string(), hash: z.string() })) });

export class LoginCache {
  private logins = new Map<string, { registryHash: string; hash: string }>();
  private dirty = false;
  /** Logins let in by this record (not by a full check) since start. */
  hits = 0;
  private readonly timer: NodeJS.Timeout;

  private readonly path: string;
  private readonly log: Logger;

  constructor(path: string, log: Logger, flushMs = 5000) {
    this.path = path;
    this.log = log;
    try {
      if (existsSync(path)) this.logins = new Map(Object.entries(fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).logins));
    } catch (err) {
      log.warn({ path, err: (err as Error).message }, 'verified-login record unreadable: starting without it (devices get full checks)');
    }
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  get size(): number {
    return this.logins.size;
  }

  /** True when this password was verified for the device's current registry hash before. */
  async matches(deviceId: string, registryHash: string, password: string): Promise<boolean> {
    const entry = this.logins.get(deviceId);
    const ok = entry !== undefined && entry.registryHash === registryHash && (await verifySecret(password, entry.hash));
    if (ok) this.hits++;
    return ok;
  }

  /** Remembers a login the full check just verified. */
  async remember(deviceId: string, registryHash: string, password: string): Promise<void> {
    const hash = await hashSecret(password, SECRET_COST.verifiedLogin);
    this.logins.set(deviceId, { registryHash, hash });
    this.dirty = true;
  }

  /** Forgets the devices whose entry is no longer the one verified (revoked, rotated, erased). */
  prune(stillValid: (deviceId: string, registryHash: string) => boolean): void {
    for (const [id, e] of this.logins) {
      if (stillValid(id, e.registryHash)) continue;
      this.logins.delete(id);
      this.dirty = true;
    }
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      writeJsonAtomic(this.path, { version: 1, logins: Object.fromEntries(this.logins) });
    } catch (err) {
      this.dirty = true;
      this.log.warn({ path: this.path, err: (err as Error).message }, 'could not write the verified-login record; will try again');
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
