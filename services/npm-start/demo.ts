/**
 * What `npm start` hands a first-time user: an API key per demo municipality (fresh each start;
 * the previous run's demo keys are revoked, since a key is shown only once), and a device for
 * trying the gateway with `mosquitto_pub` (its secret kept beside the registry, mode 0600).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { DeviceRegistry } from '../../shared/registry/device-registry.ts';

const DEMO_LABEL = 'issued by npm start';

export function issueDemoKeys(keys: ApiKeyStore, municipalities: string[]): Map<string, string> {
  for (const k of keys.list()) if (k.label === DEMO_LABEL && !k.revokedAt) keys.revoke(k.id);
  return new Map(municipalities.map((m) => [m, keys.add({ municipality: m, admin: false, label: DEMO_LABEL }).key]));
}

export interface DemoDevice {
  id: string;
  municipality: string;
  secret: string;
}

export async function ensureDemoDevice(registry: DeviceRegistry, dataDir: string): Promise<DemoDevice> {
  const file = join(dataDir, 'demo-device.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoDevice) : undefined;
  if (saved?.municipality && registry.active(saved.id)) return saved;
  const id = 'kalamata-demo-meter';
  const secret = (await registry.provision([{ address: { municipality: 'kalamata', kind: 'energy', deviceId: id }, attributes: { building: 'town-hall-demo', district: 'kentro', buildingType: 'town-hall' } }])).get(id)!;
  const demo = { id, municipality: 'kalamata', secret };
  writeFileSync(file, JSON.stringify(demo), { mode: 0o600 });
  return demo;
}
