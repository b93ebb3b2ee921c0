/**
 * KPI API keys: one per municipality (or admin, for the platform operator), shown once and stored
 * only as a SHA-256 digest in a JSON file (default `data/api-keys.json`).
 *
 * Why a fast hash and not scrypt as for device secrets: a key is 192 random bits, so there is
 * nothing to guess by brute force; a fast digest lets every request be checked by a map lookup
 * (as GitHub and Stripe tokens are), with no per-request key-stretching cost.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { identSchema } from '../schemas/topics.ts';
import { withLock, writeJsonAtomic } from '../registry/locked-file.ts';
import { ERROR_CODES } from '../errors.ts';

const KEY_PREFIX = 'sck_';

/**
 * Rights a key holds beyond its municipality's KPIs: `fleet-ops` sees vehicles under their
 * real device ids (without it, under a pseudonym); `data-protection` reads the audit of location
 * reads (its municipality's data-protection officer).
 */
export const KEY_SCOPES = ['fleet-ops', 'data-protection'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const apiKeyRecordSchema = z.object({
  /** Public handle for listing and revoking: the digest's first 12 hex characters. */
  id: z.string(),
  /** The tenant the key reads; null for an admin key. */
  municipality: identSchema.nullable(),
  admin: z.boolean(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  label: z.string().optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).default([]),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

const keysFileSchema = z.object({ version: z.literal(1), keys: z.array(apiKeyRecordSchema) });
type KeysFile = z.infer<typeof keysFileSchema>;

/** Who a request is, once its key checked out. */
export interface Principal {
  keyId: string;
  municipality: string | null;
  admin: boolean;
  scopes: readonly KeyScope[];
}

export const defaultApiKeysPath = (dataDir = process.env.DATA_DIR ?? 'data') => process.env.API_KEYS_FILE ?? join(dataDir, 'api-keys.json');

export const digestOf = (key: string) => createHash('sha256').update(key).digest('hex');

export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
  readonly code = ERROR_CODES.API_KEY;
}

export class ApiKeyStore {
  private byDigest = new Map<string, ApiKeyRecord>();
  private signature = '';

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.reload();
  }

  /** Re-reads the file when it changed (keys added or revoked by the CLI while the API runs). */
  reload(): void {
    const st = existsSync(this.path) ? statSync(this.path) : undefined;
    const signature = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : 'absent';
    if (signature === this.signature) return;
    this.byDigest = new Map(readKeysFile(this.path).keys.map((k) => [k.digest, k]));
    this.signature = signature;
  }

  /** The principal of a presented key, or undefined when it is unknown or revoked. */
  authenticate(key: string): Principal | undefined {
    if (!key.startsWith(KEY_PREFIX)) return undefined;
    this.reload();
    const rec = this.byDigest.get(digestOf(key));
    if (!rec || rec.revokedAt) return undefined;
    return { keyId: rec.id, municipality: rec.municipality, admin: rec.admin, scopes: rec.scopes };
  }

  list(): ApiKeyRecord[] {
    this.reload();
    return [...this.byDigest.values()];
  }

  /** Issues a key and returns it: the only time it exists in clear. */
  add(opts: { municipality: string | null; admin: boolean; label?: string; scopes?: KeyScope[] }): { key: string; record: ApiKeyRecord } {
    if (!opts.admin && !opts.municipality) throw new ApiKeyError('a key needs --municipality, or --admin for the platform operator');
    const key = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const digest = digestOf(key);
    const record = apiKeyRecordSchema.parse({
      id: digest.slice(0, 12),
      municipality: opts.municipality,
      admin: opts.admin,
      digest,
      label: opts.label,
      scopes: [...new Set(opts.scopes ?? [])],
      createdAt: new Date().toISOString(),
    });
    this.mutate((file) => file.keys.push(record));
    return { key, record };
  }

  revoke(id: string): void {
    this.mutate((file) => {
      const rec = file.keys.find((k) => k.id === id);
      if (!rec) throw new ApiKeyError(`no API key '${id}'`);
      rec.revokedAt ??= new Date().toISOString();
    });
  }

  private mutate(change: (file: KeysFile) => void): void {
    withLock(this.path, () => {
      const file = readKeysFile(this.path);
      change(file);
      writeJsonAtomic(this.path, file);
    });
    this.reload();
  }
}

function readKeysFile(path: string): KeysFile {
  if (!existsSync(path)) return { version: 1, keys: [] };
  const parsed = keysFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiKeyError(`API key file ${path} is invalid at ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
