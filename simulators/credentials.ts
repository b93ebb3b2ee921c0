/**
 * The simulated devices' own secret store (the device side of provisioning, like a secret flashed
 * into hardware). A device whose stored secret no longer matches the registry — new, revoked,
 * rotated by someone else — is provisioned again through the registry.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeviceRegistry } from '#shared/registry/device-registry.ts';
import type { SimDevice } from './fleet-plan.ts';

interface Stored {
  secret: string;
  /** The registry's hash when this secret was issued: if it changed, the secret is stale. */
  secretHash: string;
}

export async function ensureCredentials(registry: DeviceRegistry, devices: SimDevice[], secretsPath: string): Promise<Map<string, string>> {
  const stored: Record<string, Stored> = existsSync(secretsPath) ? (JSON.parse(readFileSync(secretsPath, 'utf8')) as Record<string, Stored>) : {};
  registry.reload();
  const stale = devices.filter((d) => {
    const rec = registry.active(d.deviceId);
    return !rec || stored[d.deviceId]?.secretHash !== rec.secretHash || rec.municipality !== d.municipality || rec.kind !== d.kind;
  });
  if (stale.length > 0) {
    const fresh = await registry.provision(stale.map((d) => ({ address: d, attributes: d.attributes })));
    for (const [id, secret] of fresh) stored[id] = { secret, secretHash: registry.get(id)!.secretHash };
    mkdirSync(dirname(secretsPath), { recursive: true });
    writeFileSync(`${secretsPath}.tmp`, JSON.stringify(stored, null, 1), { mode: 0o600 });
    renameSync(`${secretsPath}.tmp`, secretsPath);
  }
  return new Map(devices.map((d) => [d.deviceId, stored[d.deviceId]!.secret]));
}
