/**
 * Device health: each registered device's last reading and whether it has gone silent (no
 * reading for longer than the threshold; never seen counts as silent).
 */
import { byKeys } from './group.ts';
import type { DeviceLastSeen } from './source.ts';

export interface KnownDevice {
  id: string;
  municipality: string;
  kind: string;
}

export interface DeviceHealth {
  municipality: string;
  device: string;
  kind: string;
  last_seen: string | null;
  silent_for_s: number | null;
  silent: boolean;
}

export function deviceHealth(known: KnownDevice[], seen: DeviceLastSeen[], now: number, silentAfterMs: number): DeviceHealth[] {
  const last = new Map<string, DeviceLastSeen>();
  for (const s of seen) {
    const prev = last.get(s.device);
    if (!prev || s.lastSeen > prev.lastSeen) last.set(s.device, s);
  }
  const devices = new Map<string, KnownDevice>(known.map((d) => [d.id, d]));
  // Devices with data but no longer (or never) in the registry still appear: their data exists.
  for (const s of last.values()) if (!devices.has(s.device)) devices.set(s.device, { id: s.device, municipality: s.municipality, kind: s.kind });
  const out: DeviceHealth[] = [];
  for (const d of devices.values()) {
    const s = last.get(d.id);
    const silentFor = s ? Math.max(0, now - s.lastSeen) : null;
    out.push({
      municipality: d.municipality,
      device: d.id,
      kind: d.kind,
      last_seen: s ? new Date(s.lastSeen).toISOString() : null,
      silent_for_s: silentFor === null ? null : Math.round(silentFor / 1000),
      silent: silentFor === null || silentFor > silentAfterMs,
    });
  }
  return out.sort(byKeys<DeviceHealth>('municipality', 'kind', 'device'));
}
