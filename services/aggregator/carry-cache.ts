/**
 * The carry each device's next window starts from, in memory, filled from the store for devices
 * this process has not closed a window of yet (after a restart or a rebalance). `null` means
 * "looked up: the device has no earlier window".
 */
import type { Carry } from './aggregate.ts';
import { WINDOWS, type OpenWindow } from './windows.ts';

/** Finds the carries of `devices`' newest `measurement` windows strictly before `before`. */
export type CarryLookup = (measurement: string, before: number, devices: string[]) => Promise<Map<string, Carry>>;

export class CarryCache {
  private carries = new Map<string, Carry | null>();

  get(deviceId: string): Carry | undefined {
    return this.carries.get(deviceId) ?? undefined;
  }

  set(deviceId: string, carry: Carry): void {
    this.carries.set(deviceId, carry);
  }

  clear(): void {
    this.carries.clear();
  }

  /** Looks up the devices of `closed` not known yet, one query per measurement and window start. */
  async resolve(closed: OpenWindow[], lookup: CarryLookup): Promise<void> {
    const firstMissing = new Map<string, OpenWindow>();
    for (const w of closed) if (!this.carries.has(w.deviceId) && !firstMissing.has(w.deviceId)) firstMissing.set(w.deviceId, w);
    const groups = new Map<string, { measurement: string; before: number; devices: string[] }>();
    for (const w of firstMissing.values()) {
      const measurement = WINDOWS[w.kind].measurement;
      const key = `${measurement}|${w.start}`;
      const g = groups.get(key) ?? { measurement, before: w.start, devices: [] };
      g.devices.push(w.deviceId);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      const found = await lookup(g.measurement, g.before, g.devices);
      for (const d of g.devices) this.carries.set(d, found.get(d) ?? null);
    }
  }
}
