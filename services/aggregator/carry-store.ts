/**
 * Where a device's carry comes from when this process has not seen its previous window (after a
 * restart or a rebalance): the `carry` field of that window's aggregate point in the store, which
 * was written before the commit moved past it.
 *
 * A vehicle's carry is stored without its position: aggregates are kept for years, positions only
 * for the raw retention (docs/privacy.md). The position is read back from the raw reading the
 * carry names when it is needed — and a window old enough for that reading to be gone is never
 * reopened (the aggregator's horizon), so exactness does not depend on it.
 */
import { VOCABULARY } from '../../shared/schemas/kinds.ts';
import { groupingTags } from '../../shared/store/points.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import type { Carry } from './aggregate.ts';
import type { FleetCarry } from './window-math.ts';
import type { OpenWindow } from './windows.ts';

/** Raw lookups of positions at once, after a restart: bounded so a large fleet queues, not floods. */
const POSITION_LOOKUPS_AT_ONCE = 16;

/** How far back a previous window is looked for; beyond it a device starts afresh. */
const LOOKBACK_MS = 30 * 24 * 3_600_000;

export async function loadCarries(store: TelemetryStore, measurement: string, before: number, devices: string[]): Promise<Map<string, Carry>> {
  const found = await store.previousCarries(measurement, before, devices, LOOKBACK_MS);
  const carries = new Map([...found].map(([device, json]) => [device, JSON.parse(json) as Carry]));
  if (measurement === VOCABULARY.fleet.aggregate) await restorePositions(store, carries as Map<string, FleetCarry>);
  return carries;
}

async function restorePositions(store: TelemetryStore, carries: Map<string, FleetCarry>): Promise<void> {
  const missing = [...carries].filter(([, c]) => c.lat === undefined);
  for (let i = 0; i < missing.length; i += POSITION_LOOKUPS_AT_ONCE) {
    await Promise.all(
      missing.slice(i, i + POSITION_LOOKUPS_AT_ONCE).map(async ([device, c]) => {
        const [raw] = await store.devicePoints(VOCABULARY.fleet.raw, device, c.ts, c.ts + 1);
        const { lat, lon } = raw?.fields ?? {};
        if (typeof lat === 'number' && typeof lon === 'number') carries.set(device, { ...c, lat, lon });
      }),
    );
  }
}

/** What of a carry is stored with its window: all of it, but a vehicle's position. */
function storedCarry(kind: OpenWindow['kind'], carry: Carry): Carry {
  if (kind !== 'fleet') return carry;
  const { lat: _lat, lon: _lon, ...rest } = carry as FleetCarry;
  return rest;
}

export function aggregatePoint(w: OpenWindow, measurement: string, fields: Record<string, number>, carry: Carry): StorePoint {
  return { measurement, tags: groupingTags(w.municipality, w.deviceId, w.attrs), fields: { ...fields, carry: JSON.stringify(storedCarry(w.kind, carry)) }, ts: w.start };
}
