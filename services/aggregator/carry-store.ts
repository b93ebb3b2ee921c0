/**
 * Where a device's carry comes from when this process has not seen its previous window (after a
 * restart or a rebalance): the `carry` field of that window's aggregate point in the store, which
 * was written before the commit moved past it.
 */
import { groupingTags } from '../../shared/store/points.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import type { Carry } from './aggregate.ts';
import type { OpenWindow } from './windows.ts';

/** How far back a previous window is looked for; beyond it a device starts afresh. */
const LOOKBACK_MS = 30 * 24 * 3_600_000;

export async function loadCarries(store: TelemetryStore, measurement: string, before: number, devices: string[]): Promise<Map<string, Carry>> {
  const found = await store.previousCarries(measurement, before, devices, LOOKBACK_MS);
  return new Map([...found].map(([device, json]) => [device, JSON.parse(json) as Carry]));
}

export function aggregatePoint(w: OpenWindow, measurement: string, fields: Record<string, number>, carry: Carry): StorePoint {
  return { measurement, tags: groupingTags(w.municipality, w.deviceId, w.attrs), fields: { ...fields, carry: JSON.stringify(carry) }, ts: w.start };
}
