import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../shared/embedded/sqlite-store.ts';
import { aggregatePoint, loadCarries } from './carry-store.ts';
import type { OpenWindow } from './windows.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 11, 1, 10);
const window = (deviceId: string, kind: 'fleet' | 'energy'): OpenWindow => ({ kind, deviceId, municipality: 'kalamata', attrs: {}, start: T - H, end: T, readings: [], newestTs: -Infinity, firstOffset: 0 });

describe("a vehicle's carry in the store", () => {
  it('is stored without its position, which is read back from the raw reading it names while that is kept', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'carry-')), 'store.db'));
    const last = T - 60_000;
    await store.write([
      { measurement: 'fleet', tags: { municipality: 'kalamata', device: 'bus-1' }, fields: { lat: 37.04, lon: 22.11, speed_kmh: 30 }, ts: last },
      aggregatePoint(window('bus-1', 'fleet'), 'fleet_1h', { distance_km: 3 }, { ts: last, lat: 37.04, lon: 22.11, speed_kmh: 30, speeding: false }),
      aggregatePoint(window('bus-2', 'fleet'), 'fleet_1h', { distance_km: 2 }, { ts: last, lat: 37.5, lon: 22.5, speeding: false }), // its raw reading is gone
      aggregatePoint(window('meter-1', 'energy'), 'energy_15m', { energy_kwh: 1 }, { ts: last, energy_wh: 5000 }),
    ]);
    const stored = await store.devicePoints('fleet_1h', 'bus-1', 0, T + H);
    expect(JSON.parse(String(stored[0]!.fields.carry))).toEqual({ ts: last, speed_kmh: 30, speeding: false });

    const carries = await loadCarries(store, 'fleet_1h', T, ['bus-1', 'bus-2']);
    expect(carries.get('bus-1')).toEqual({ ts: last, lat: 37.04, lon: 22.11, speed_kmh: 30, speeding: false });
    expect(carries.get('bus-2')).toEqual({ ts: last, speeding: false }); // past retention: no position (and such a window is never reopened)
    expect((await loadCarries(store, 'energy_15m', T, ['meter-1'])).get('meter-1')).toEqual({ ts: last, energy_wh: 5000 });
    await store.close();
  });
});
