import { describe, expect, it } from 'vitest';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { recompute, RECOMPUTE_SPAN_WINDOWS, type Reopened } from './late-windows.ts';

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
    const points: StorePoint[] = [];
    const { windows, finalCarry } = await recompute(store, rules, late, 2 * WINDOW, async (ps) => void points.push(...ps));
    expect(windows).toBe(2);
    expect(points.map((p) => [p.ts, p.fields.energy_kwh])).toEqual([
      [0, 0.1],
      [WINDOW, 0.2],
    ]);
    expect(finalCarry).toEqual({ ts: 20 * MIN, energy_wh: 300 });
  });

  it('leaves out a point whose fields are not all visible yet (being written), never producing NaN', async () => {
    // InfluxDB 1.x may show power_w of a point being written before its energy_wh.
    const store = storeWith([raw(0, { energy_wh: 0 }), raw(10 * MIN, { energy_wh: 100 }), raw(14 * MIN, { power_w: 700 })]);
    const points: StorePoint[] = [];
    await recompute(store, rules, late, WINDOW, async (ps) => void points.push(...ps));
    expect(points).toHaveLength(1);
    expect(points[0]!.fields).toMatchObject({ energy_kwh: 0.1, readings: 2 });
    expect(Object.values(points[0]!.fields).every((v) => typeof v !== 'number' || Number.isFinite(v))).toBe(true);
  });

  it('reads the store a span of windows at a time, and stops where a window comes out as it was', async () => {
    const span = RECOMPUTE_SPAN_WINDOWS * WINDOW;
    const readings = [0, 1, 2, span / MIN + 1, 2 * (span / MIN) + 1].map((m, i) => raw(m * MIN, { energy_wh: i * 100 }));
    const store = storeWith(readings);
    const writes: number[][] = [];
    const { windows } = await recompute(store, rules, late, 3 * span, async (ps) => void writes.push(ps.map((p) => p.ts)));
    expect(writes).toEqual([[0], [span], [2 * span]]); // one write per span read
    expect(windows).toBe(3);
    // With the chain's windows already stored as computed, it stops at the first unchanged one past the reopened window.
    const stored: StorePoint[] = [];
    await recompute(store, rules, late, 3 * span, async (ps) => void stored.push(...ps));
    const again = storeWith([...readings, ...stored]);
    const second: number[][] = [];
    await recompute(again, rules, { ...late, lastLate: 0 }, 3 * span, async (ps) => void second.push(ps.map((p) => p.ts)));
    expect(second).toEqual([[0]]);
  });
});
