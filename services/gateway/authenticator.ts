/**
 * Checks a device's MQTT credentials against the registry: username = device id, password = its
 * secret (scrypt-verified). A successful check is remembered in memory (as a SHA-256 of the
 * password, never the password) until the registry changes, so reconnect storms do not cost one
 * scrypt each; and, when given a `LoginCache`, on disk at a lower scrypt cost, so the first logins
 * after a restart do not either.
 */
import { createHash } from 'node:crypto';
import type { DeviceRecord, DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { verifySecret } from '../../shared/registry/secrets.ts';
import { CONNECT_REFUSAL } from './refusals.ts';
import type { LoginCache } from './login-cache.ts';

export type AuthResult = { ok: true; device: DeviceRecord } | { ok: false; reason: 'unknown_device' | 'revoked' | 'bad_secret' | 'no_credentials' };

export class Authenticator {
  private verified = new Map<string, string>();

  private readonly registry: DeviceRegistry;
  private readonly verifiedBefore: LoginCache | undefined;
  private readonly hashed: (by: 'full' | 'verified_before') => void;

  constructor(registry: DeviceRegistry, verifiedBefore?: LoginCache, hashed: (by: 'full' | 'verified_before') => void = () => undefined) {
    this.registry = registry;
    this.verifiedBefore = verifiedBefore;
    this.hashed = hashed;
  }

  /** Forget cached checks: called whenever the registry changed. The record on disk keeps only devices whose entry is still the one verified. */
  invalidate(): void {
    this.verified.clear();
    this.verifiedBefore?.prune((id, hash) => {
      const d = this.registry.get(id);
      return d !== undefined && !d.revokedAt && d.secretHash === hash;
    });
  }

  /** The device, when this exact password was verified for it before (no hash needed); else undefined. */
  knownGood(username: string | undefined, password: Buffer | undefined): DeviceRecord | undefined {
    if (!username || !password) return undefined;
    this.registry.reload(); // a stat: a device revoked a moment ago is not admitted from the cache
    const device = this.registry.get(username);
    if (!device || device.revokedAt) return undefined;
    const digest = createHash('sha256').update(password).digest('hex');
    return this.verified.get(`${device.id}\0${device.secretHash}`) === digest ? device : undefined;
  }

  async check(username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
    if (!username || !password) return { ok: false, reason: CONNECT_REFUSAL.NO_CREDENTIALS };
    // A stat per connect: a device registered a moment ago is known without waiting for the poll.
    this.registry.reload();
    const device = this.registry.get(username);
    if (!device) return { ok: false, reason: CONNECT_REFUSAL.UNKNOWN_DEVICE };
    if (device.revokedAt) return { ok: false, reason: CONNECT_REFUSAL.REVOKED };
    const digest = createHash('sha256').update(password).digest('hex');
    const cacheKey = `${device.id}\0${device.secretHash}`;
    if (this.verified.get(cacheKey) === digest) return { ok: true, device };
    const secret = password.toString('utf8');
    if (await this.verifiedBefore?.matches(device.id, device.secretHash, secret)) {
      this.hashed('verified_before');
      this.verified.set(cacheKey, digest);
      return { ok: true, device };
    }
    this.hashed('full');
    if (!(await verifySecret(secret, device.secretHash))) return { ok: false, reason: CONNECT_REFUSAL.BAD_SECRET };
    this.verified.set(cacheKey, digest);
    await this.verifiedBefore?.remember(device.id, device.secretHash, secret);
    return { ok: true, device };
  }
}
