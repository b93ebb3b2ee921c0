/**
 * A device's login, the same on every listener (an MQTT CONNECT, an HTTP ingest request): a secret
 * verified before passes at once (no hash, no throttle — a flood against a device id cannot lock
 * the genuine device out); any other attempt waits its turn in the login throttle, then costs one
 * scrypt check, and only a wrong secret for a real device counts against its id and address.
 */
import type { DeviceRecord } from '../../shared/registry/device-registry.ts';
import type { Authenticator } from './authenticator.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { CONNECT_REFUSAL, type ConnectRefusal } from './refusals.ts';

export type LoginResult = { ok: true; device: DeviceRecord } | { ok: false; reason: ConnectRefusal; retryInMs?: number };

export async function deviceLogin(auth: Authenticator, throttle: LoginThrottle, username: string | undefined, password: Buffer | undefined, remote: string | undefined): Promise<LoginResult> {
  const known = auth.knownGood(username, password);
  if (known) return { ok: true, device: known };
  const attempt = await throttle.begin([`id:${username ?? ''}`, `ip:${remote ?? ''}`]);
  if (!attempt.ok) return { ok: false, reason: CONNECT_REFUSAL.THROTTLED, retryInMs: attempt.retryInMs };
  try {
    const r = await auth.check(username, password);
    attempt.done(r.ok ? 'success' : r.reason === CONNECT_REFUSAL.BAD_SECRET ? 'failure' : 'neutral');
    return r;
  } catch (err) {
    attempt.done('neutral');
    throw err;
  }
}
