/**
 * A device's login, the same on every listener (an MQTT CONNECT, an HTTP ingest request): a secret
 * verified before passes at once (no hash, no throttle); any other attempt waits its turn in the
 * login throttle, then costs one scrypt check.
 *
 * The throttle keys on what the guesser controls and the genuine device does not share: the
 * source address (`ip:`) and the pair of address and device id (`pair:`). Never on the device id
 * alone — a key anyone can name is a lock anyone can close: wrong secrets sent for a device from
 * another address would then keep the genuine device out (after every restart or registry
 * change, when nothing is remembered). Device secrets are 192-bit random, so guessing from many
 * addresses gains nothing that a per-id lock would have to stop.
 */
import type { DeviceRecord } from '../../shared/registry/device-registry.ts';
import type { Authenticator } from './authenticator.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { CONNECT_REFUSAL, type ConnectRefusal } from './refusals.ts';

export type LoginResult = { ok: true; device: DeviceRecord } | { ok: false; reason: ConnectRefusal; retryInMs?: number };

/** The throttle's keys for a login attempt: the address, and the address with the device id. */
export const loginKeys = (username: string | undefined, remote: string | undefined): string[] => [`ip:${remote ?? ''}`, `pair:${remote ?? ''}|${username ?? ''}`];

export async function deviceLogin(auth: Authenticator, throttle: LoginThrottle, username: string | undefined, password: Buffer | undefined, remote: string | undefined): Promise<LoginResult> {
  const known = auth.knownGood(username, password);
  if (known) return { ok: true, device: known };
  const attempt = await throttle.begin(loginKeys(username, remote));
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
