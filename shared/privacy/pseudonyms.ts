/**
 * Vehicles under a keyed pseudonym outside fleet operations (GDPR: a municipal vehicle's track
 * follows its driver). A pseudonym is an HMAC-SHA256 of the device id under a secret of its
 * municipality's: stable while the secret stands, so a vehicle's KPIs can be followed over time,
 * and unlinkable to the device id without the secret. Rotating a municipality's secret gives all
 * its vehicles new pseudonyms (yesterday's exports no longer join today's). The secrets live in a
 * file only the platform reads (`DATA_DIR/pseudonym-keys.json`, mode 0600), made on first use.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { withLock, writeJsonAtomic } from '../registry/locked-file.ts';
import { identSchema } from '../schemas/topics.ts';

const fileSchema = z.object({ version: z.literal(1), municipalities: z.record(identSchema, z.object({ secret: z.string().regex(/^[0-9a-f]{64}$/), since: z.string() })) });
type PseudonymFile = z.infer<typeof fileSchema>;

export const defaultPseudonymKeysPath = (dataDir: string) => join(dataDir, 'pseudonym-keys.json');

/** `vehicle-` and 16 hex characters (64 bits) of HMAC-SHA256(secret, deviceId). Pure. */
export const pseudonymOf = (secret: string, deviceId: string): string => `vehicle-${createHmac('sha256', Buffer.from(secret, 'hex')).update(deviceId).digest('hex').slice(0, 16)}`;

export class VehiclePseudonyms {
  private file: PseudonymFile = { version: 1, municipalities: {} };
  private signature = '';
  /** When the file was last looked at: at most once a second (an answer names many vehicles). */
  private checkedAt = -Infinity;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The vehicle's pseudonym in its municipality (its secret made on first use). */
  of(municipality: string, deviceId: string): string {
    return pseudonymOf(this.secretOf(municipality), deviceId);
  }

  /** A new secret for the municipality: every vehicle of it gets a new pseudonym (in another process, within a second). */
  rotate(municipality: string): void {
    this.mutate((f) => (f.municipalities[municipality] = { secret: randomBytes(32).toString('hex'), since: new Date().toISOString() }));
  }

  private secretOf(municipality: string): string {
    this.reload();
    const known = this.file.municipalities[municipality];
    if (known) return known.secret;
    this.mutate((f) => (f.municipalities[municipality] ??= { secret: randomBytes(32).toString('hex'), since: new Date().toISOString() }));
    return this.file.municipalities[municipality]!.secret;
  }

  private reload(force = false): void {
    const now = performance.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const st = existsSync(this.path) ? statSync(this.path) : undefined;
    const signature = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : 'absent';
    if (signature === this.signature) return;
    this.file = st ? fileSchema.parse(JSON.parse(readFileSync(this.path, 'utf8'))) : { version: 1, municipalities: {} };
    this.signature = signature;
  }

  private mutate(change: (f: PseudonymFile) => void): void {
    withLock(this.path, () => {
      this.signature = '';
      this.reload(true);
      change(this.file);
      writeJsonAtomic(this.path, this.file);
    });
    this.signature = '';
    this.reload(true);
  }
}
