import { describe, expect, it } from 'vitest';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { recompute, type Reopened } from './late-windows.ts';

const MIN = 60_000;
const WINDOW = 15 * MIN;
const rules = { jitterM: 10, movingKmh: 3, speedLimitKmh: 50, maxGapS: 600 };
const raw = (ts: number, fields: StorePoint['fields']): StorePoint => ({ measurement: 'energy', tags: { device: 'd', municipality: 'm' }, fields, ts });

/** A store holding one device's raw energy readings and no aggregates yet. */
function storeWith(points: StorePoint[]): TelemetryStore {
  return {
    devicePoints: async (measurement: string, _device: string, from: number, to: number) => points.filter((p) => p.measurement === measurement && p.ts >= from && p.ts < to),
    previousCarries: async () => new Map(),
  } as unknown as TelemetryStore;
}

const late: Reopened = { kind: 'energy', deviceId: 'd', municipality: 'm', attrs: {}, from: 0, lastLate: 0 };

describe('recompute (late windows)', () => {
  it('computes each window from the carry of the one before, over the stored readings', async () => {
    const store = storeWith([raw(0, { energy_wh: 0 }), raw(10 * MIN, { energy_wh: 100 }), raw(20 * MIN, { energy_wh: 300 })]);
    const { points, finalCarry } = await recompute(store, rules, late, 2 * WINDOW);
    expect(points.map((p) => [p.ts, p.fields.energy_kwh])).toEqual([
      [0, 0.1],
      [WINDOW, 0.2],
    ]);
    expect(finalCarry).toEqual({ ts: 20 * MIN, energy_wh: 300 });
  });

  it('leaves out a point whose fields are not all visible yet (being written), never producing NaN', async () => {
    // InfluxDB 1.x may show power_w of a point being written before its energy_wh.
    const store = storeWith([raw(0, { energy_wh: 0 }), raw(10 * MIN, { energy_wh: 100 }), raw(14 * MIN, { power_w: 700 })]);
    const { points } = await recompute(store, rules, late, WINDOW);
    expect(points).toHaveLength(1);
    expect(points[0]!.fields).toMatchObject({ energy_kwh: 0.1, readings: 2 });
    expect(Object.values(points[0]!.fields).every((v) => typeof v !== 'number' || Number.isFinite(v))).toBe(true);
  });
});
