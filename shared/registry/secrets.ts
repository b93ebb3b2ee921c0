/**
 * Device secrets: random, shown once, stored only as a salted scrypt hash. Verification is
 * constant-time. Format: `scrypt$N$r$p$salt$hash` (base64url), so parameters can change later.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

/**
 * The registry's cost (about 40 ms of one core here), and the cost of the gateway's own record of
 * logins it has verified (`services/gateway/login-cache.ts`): still salted and memory-hard, 16×
 * cheaper, so a gateway restarted among thousands of known devices lets them back in within
 * seconds. Device secrets are 192 random bits: neither cost is what keeps them from being guessed.
 */
export const SECRET_COST = { registry: N, verifiedLogin: 1024 } as const;

export const generateSecret = () => randomBytes(24).toString('base64url');

export async function hashSecret(secret: string, cost: number = N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, KEYLEN, { N: cost, r: R, p: P });
  return ['scrypt', cost, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  // OpenSSL's scrypt reads the password up to its first NUL: `secret\0anything` would pass.
  if (secret.includes('\0')) return false;
  const [algo, n, r, p, salt, hash] = stored.split('$');
  if (algo !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
