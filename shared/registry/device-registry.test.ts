import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry } from './device-registry.ts';
import { verifySecret } from './secrets.ts';

describe('DeviceRegistry', () => {
  it('stores only a salted hash that verifies the secret it printed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'reg-')), 'devices.json');
    const reg = new DeviceRegistry(path);
    const secret = await reg.add({ municipality: 'petroupoli', kind: 'fleet', deviceId: 'pet-truck-1' }, { vehicleType: 'refuse-truck' });
    const onDisk = readFileSync(path, 'utf8');
    expect(onDisk).not.toContain(secret);
    const rec = reg.get('pet-truck-1')!;
    expect(rec.attributes).toEqual({ vehicleType: 'refuse-truck' });
    expect(await verifySecret(secret, rec.secretHash)).toBe(true);
    expect(await verifySecret(`${secret}x`, rec.secretHash)).toBe(false);
    // The same secret hashed twice differs (salt).
    const other = await new DeviceRegistry(path).rotate('pet-truck-1');
    expect(await verifySecret(secret, new DeviceRegistry(path).get('pet-truck-1')!.secretHash)).toBe(false);
    expect(await verifySecret(other, new DeviceRegistry(path).get('pet-truck-1')!.secretHash)).toBe(true);
  });

  it('refuses a duplicate id and sees another process’s revoke on reload', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'reg-')), 'devices.json');
    const a = new DeviceRegistry(path);
    const b = new DeviceRegistry(path);
    await a.add({ municipality: 'mytilene', kind: 'parking', deviceId: 'myt-bay-1' });
    await expect(a.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'myt-bay-1' })).rejects.toThrow(/already registered/);
    expect(b.reload()).toBe(true);
    expect(b.active('myt-bay-1')).toBeDefined();
    await a.revoke('myt-bay-1');
    expect(b.reload()).toBe(true);
    expect(b.active('myt-bay-1')).toBeUndefined();
  });
});

describe('verifySecret', () => {
  it('refuses the secret followed by a NUL byte (scrypt would read only up to it)', async () => {
    const { hashSecret, verifySecret } = await import('./secrets.ts');
    const stored = await hashSecret('s3cret-value');
    expect(await verifySecret('s3cret-value', stored)).toBe(true);
    expect(await verifySecret('s3cret-value\0', stored)).toBe(false);
    expect(await verifySecret('s3cret-value\0anything', stored)).toBe(false);
  });

  it('records a DevEUI in any case, finds the device by it, and refuses a malformed or taken one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'reg-')), 'devices.json');
    const reg = new DeviceRegistry(path);
    await reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'bay-1' }, {}, { devEui: 'A84041000181C0DE' });
    expect(reg.get('bay-1')!.devEui).toBe('a84041000181c0de');
    const other = new DeviceRegistry(path);
    expect(other.byDevEui('a84041000181c0de')?.id).toBe('bay-1');
    expect(other.byDevEui('A84041000181C0DE')?.id).toBe('bay-1');
    await expect(reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'bay-2' }, {}, { devEui: 'a84041000181c0de' })).rejects.toThrow(/already belongs to device 'bay-1'/);
    await expect(reg.add({ municipality: 'kalamata', kind: 'parking', deviceId: 'bay-3' }, {}, { devEui: 'a84041' })).rejects.toThrow(/16 hex digits/);
    await reg.revoke('bay-1');
    expect(reg.byDevEui('a84041000181c0de')).toBeUndefined();
  });
});
