import { describe, expect, it } from 'vitest';
import { energyWindow, fleetWindow, parkingWindow } from './window-math.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 16, 8, 0);

describe('energyWindow', () => {
  it('sums counter deltas from the carry, in time order, as kWh', () => {
    const { agg, carry } = energyWindow({ ts: T0 - 60_000, energy_wh: 1000 }, [
      { ts: T0 + 600_000, energy_wh: 1600, power_w: 3000 },
      { ts: T0 + 60_000, energy_wh: 1100, power_w: 6000 },
    ]);
    expect(agg).toEqual({ energy_kwh: 0.6, peak_kw: 6, readings: 2, counter_resets: 0 });
    expect(carry).toEqual({ ts: T0 + 600_000, energy_wh: 1600 });
  });

  it('treats a falling counter as a meter reset counting from zero', () => {
    const { agg } = energyWindow({ ts: T0, energy_wh: 50_000 }, [{ ts: T0 + 60_000, energy_wh: 120 }, { ts: T0 + 120_000, energy_wh: 300 }]);
    expect(agg.counter_resets).toBe(1);
    expect(agg.energy_kwh).toBeCloseTo(0.3, 9);
  });

  it('counts a gap in the window where the meter reports again, and derives peak from deltas without power', () => {
    const { agg } = energyWindow({ ts: T0 - 2 * H, energy_wh: 0 }, [{ ts: T0, energy_wh: 4000 }]);
    expect(agg.energy_kwh).toBe(4);
    expect(agg.peak_kw).toBe(2); // 4 kWh over 2 h
  });

  it('has no delta for the first reading ever', () => {
    expect(energyWindow(undefined, [{ ts: T0, energy_wh: 999 }]).agg.energy_kwh).toBe(0);
  });
});

describe('fleetWindow', () => {
  const rules = { jitterM: 15, movingKmh: 3, speedLimitKmh: 50, maxGapS: 600 };
  it('measures distance with haversine, ignoring jitter, and splits moving and idle time', () => {
    const { agg } = fleetWindow(undefined, [
      { ts: T0, lat: 37.0, lon: 22.0, speed_kmh: 0, ignition: true },
      { ts: T0 + 60_000, lat: 37.00005, lon: 22.0, speed_kmh: 0, ignition: true }, // 5.6 m: jitter
      { ts: T0 + 120_000, lat: 37.01, lon: 22.0, speed_kmh: 40, ignition: true }, // 1.11 km
    ], rules);
    expect(agg.distance_km).toBeCloseTo(1.1064, 3);
    expect(agg.idle_s).toBe(60);
    expect(agg.moving_s).toBe(60);
    expect(agg.max_speed_kmh).toBe(40);
  });

  it('counts a speeding event when the limit is crossed, not while it stays crossed', () => {
    const pts = [55, 60, 40, 52, 51].map((s, i) => ({ ts: T0 + i * 60_000, lat: 37, lon: 22, speed_kmh: s }));
    expect(fleetWindow({ ts: T0 - 60_000, lat: 37, lon: 22, speeding: true }, pts, rules).agg.speeding_events).toBe(1);
    expect(fleetWindow(undefined, pts, rules).agg.speeding_events).toBe(2);
  });

  it('in private use (no positions) takes the distance from the speeds, and keeps no position in the carry', () => {
    const { agg, carry } = fleetWindow({ ts: T0, lat: 37, lon: 22, speed_kmh: 30, speeding: false }, [
      { ts: T0 + 60_000, speed_kmh: 60, ignition: true }, // (30+60)/2 km/h for a minute: 0.75 km
      { ts: T0 + 120_000, speed_kmh: 0, ignition: true }, // 0.5 km, stopping: idle (a state is judged at its reading)
      { ts: T0 + 180_000, speed_kmh: 0, ignition: true }, // idle
      { ts: T0 + 1_380_000, speed_kmh: 90, ignition: true }, // after a 20-min gap: distance unknown
    ], rules);
    expect(agg.distance_km).toBeCloseTo(1.25, 6);
    expect(agg.moving_s).toBe(60);
    expect(agg.idle_s).toBe(120);
    expect(carry).toEqual({ ts: T0 + 1_380_000, speed_kmh: 90, speeding: true });
  });
});

describe('parkingWindow', () => {
  const S = T0;
  const E = T0 + 900_000;
  it('integrates occupancy from the carry to the window end and measures dwell at departure', () => {
    const { agg, carry } = parkingWindow({ ts: S - 60_000, occupied: true, since: S - 600_000 }, [
      { ts: S + 300_000, occupied: false },
      { ts: S + 600_000, occupied: true },
    ], S, E);
    expect(agg.occupied_s).toBe(300 + 300);
    expect(agg.occupancy_pct).toBeCloseTo((600 / 900) * 100, 9);
    expect(agg).toMatchObject({ arrivals: 1, departures: 1, dwell_s_sum: 900 });
    expect(carry).toEqual({ ts: S + 600_000, occupied: true, since: S + 600_000 });
  });

  it('does not invent a state before the first reading ever', () => {
    const { agg } = parkingWindow(undefined, [{ ts: S + 600_000, occupied: true }], S, E);
    expect(agg).toMatchObject({ occupied_s: 300, arrivals: 0 });
  });
});
