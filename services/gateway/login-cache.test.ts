/**
 * The gateway's record of logins it verified: after a restart a known device is let in by it (a
 * cheap check), never a wrong secret, never a rotated one's old secret, never a revoked device;
 * the file holds no secret, only salted scrypt hashes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { SECRET_COST } from '../../shared/registry/secrets.ts';
import { Authenticator } from './authenticator.ts';
import { LoginCache } from './login-cache.ts';

const log = createLogger('login-cache-test', 'silent');

describe('the verified-login record', () => {
  it('lets a known device back in after a restart by its cheaper check, and nothing it should not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logins-'));
    const registry = new DeviceRegistry(join(dir, 'devices.json'));
    const a = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-m1' });
    const b = await registry.add({ municipality: 'kalamata', kind: 'energy', deviceId: 'kal-m2' });
    const path = join(dir, 'gateway-logins.gw.json');

    // First run: full checks, remembered.
    const first = new LoginCache(path, log);
    const auth = new Authenticator(registry, first);
    expect(await auth.check('kal-m1', Buffer.from(a))).toMatchObject({ ok: true });
    expect(await auth.check('kal-m2', Buffer.from(b))).toMatchObject({ ok: true });
    expect(first.hits).toBe(0);
    first.close();
    const onDisk = readFileSync(path, 'utf8');
    expect(onDisk).not.toContain(a);
    expect(onDisk).toContain(`scrypt$${SECRET_COST.verifiedLogin}$`);

    // After a restart: the record lets them in; a wrong secret is still refused.
    const again = new LoginCache(path, log);
    const restarted = new Authenticator(registry, again);
    expect(await restarted.check('kal-m1', Buffer.from(a))).toMatchObject({ ok: true });
    expect(again.hits).toBe(1);
    expect(await restarted.check('kal-m2', Buffer.from(`${b}x`))).toEqual({ ok: false, reason: 'bad_secret' });

    // Rotated: the old secret no longer opens, the new one does (by a full check); revoked: refused.
    const rotated = await registry.rotate('kal-m2');
    const third = new Authenticator(registry, again);
    expect(await third.check('kal-m2', Buffer.from(b))).toEqual({ ok: false, reason: 'bad_secret' });
    expect(await third.check('kal-m2', Buffer.from(rotated))).toMatchObject({ ok: true });
    await registry.revoke('kal-m1');
    expect(await new Authenticator(registry, again).check('kal-m1', Buffer.from(a))).toEqual({ ok: false, reason: 'revoked' });
    // A registry change prunes the record: the revoked device is gone from the disk too.
    third.invalidate();
    again.close();
    expect(readFileSync(path, 'utf8')).not.toContain('kal-m1');
    expect(readFileSync(path, 'utf8')).toContain('kal-m2');
  });

  it('starts without a record it cannot read, rather than failing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logins-'));
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{not json');
    expect(new LoginCache(path, log).size).toBe(0);
  });
});
