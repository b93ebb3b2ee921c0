import { describe, expect, it } from 'vitest';
import { energyConsumption, energySavings } from './energy.ts';
import { deviceHealth } from './health.ts';
import { fleetKpis, parkingKpis } from './mobility.ts';
import { localMidnight, periodOf } from './periods.ts';
import type { WindowRow } from './source.ts';

const H = 3_600_000;
const row = (start: number, device: string, fields: Record<string, number>, tags: Record<string, string> = {}, municipality = 'kalamata'): WindowRow => ({ start, device, municipality, tags, fields });

describe('periods in Europe/Athens', () => {
  it('puts 22:00 UTC in winter on the next local day, and 21:00 UTC in summer too', () => {
    expect(periodOf(Date.UTC(2026, 10, 17, 21, 45), 'day')).toBe('2026-11-17');
    expect(periodOf(Date.UTC(2026, 10, 17, 22, 0), 'day')).toBe('2026-11-18');
    expect(periodOf(Date.UTC(2026, 6, 1, 20, 59), 'day')).toBe('2026-07-01');
    expect(periodOf(Date.UTC(2026, 6, 1, 21, 0), 'day')).toBe('2026-07-02');
  });

  it('reads a calendar date as local midnight (winter +2 h, summer +3 h)', () => {
    expect(new Date(localMidnight('2026-11-23')).toISOString()).toBe('2026-11-22T22:00:00.000Z');
    expect(new Date(localMidnight('2026-07-01')).toISOString()).toBe('2026-06-30T21:00:00.000Z');
    expect(new Date(localMidnight('2026-03-29')).toISOString()).toBe('2026-03-28T22:00:00.000Z'); // DST starts that morning
  });

  it('numbers ISO weeks (the week of the Thursday) and months', () => {
    expect(periodOf(Date.UTC(2026, 10, 23, 10), 'week')).toBe('2026-W48'); // Monday
    expect(periodOf(Date.UTC(2026, 10, 29, 21, 59), 'week')).toBe('2026-W48'); // Sunday 23:59 local
    expect(periodOf(Date.UTC(2026, 10, 29, 22, 0), 'week')).toBe('2026-W49');
    expect(periodOf(Date.UTC(2027, 0, 1, 10), 'week')).toBe('2026-W53'); // Friday 1 Jan 2027
    expect(periodOf(Date.UTC(2026, 10, 30, 22, 0), 'month')).toBe('2026-12');
    expect(periodOf(Date.UTC(2026, 10, 30, 21, 59), 'hour')).toBe('2026-11-30T23');
    expect(periodOf(Date.UTC(2026, 10, 30, 22, 0), 'hour')).toBe('2026-12-01T00');
  });
});

describe('energy KPIs', () => {
  const t0 = Date.UTC(2026, 10, 17, 8, 0);
  const rows = [
    row(t0, 'm1', { energy_kwh: 2 }, { building: 'school', district: 'kentro' }),
    row(t0, 'm2', { energy_kwh: 3 }, { building: 'gym', district: 'kentro' }),
    row(t0 + 0.25 * H, 'm1', { energy_kwh: 4 }, { building: 'school', district: 'kentro' }),
    row(t0 + 0.25 * H, 'm2', { energy_kwh: 0.5 }, { building: 'gym', district: 'kentro' }),
    row(t0 + 24 * H, 'm1', { energy_kwh: 1 }, { building: 'school', district: 'kentro' }),
  ];

  it('sums kWh per building per day', () => {
    expect(energyConsumption(rows, 'building', 'day').map((r) => [r.period, r.group, r.kwh])).toEqual([
      ['2026-11-17', 'gym', 3.5],
      ['2026-11-17', 'school', 6],
      ['2026-11-18', 'school', 1],
    ]);
  });

  it("takes a group's peak as its largest quarter hour together, not the sum of each meter's peak", () => {
    const [day1] = energyConsumption(rows, 'district', 'day');
    // quarter 1: 2 + 3 = 5 kWh → 20 kW; quarter 2: 4 + 0.5 = 4.5 kWh → 18 kW. Per-meter peaks would give 16 + 12 = 28.
    expect(day1).toMatchObject({ group: 'kentro', kwh: 9.5, peak_kw: 20, meters: 2 });
  });

  it('compares kWh per day against a baseline of another length', () => {
    const base = [row(t0, 'm1', { energy_kwh: 20 }, { building: 'school' })]; // over 2 days: 10/day
    const cur = [row(t0 + 3 * 24 * H, 'm1', { energy_kwh: 8 }, { building: 'school' })]; // over 1 day
    const [s] = energySavings(cur, { from: 0, to: 24 * H }, base, { from: 0, to: 48 * H }, 'building');
    expect(s).toMatchObject({ baseline_kwh_per_day: 10, current_kwh_per_day: 8, savings_pct: 20 });
    expect(energySavings(cur, { from: 0, to: H }, [], { from: 0, to: H }, 'building')[0]!.savings_pct).toBeNull();
  });
});

describe('mobility KPIs', () => {
  it('derives utilisation and idle share from engine-on time over the period', () => {
    const rows = [row(0, 'v1', { distance_km: 10, moving_s: 1800, idle_s: 600, speeding_events: 1, max_speed_kmh: 62 }, { vehicleType: 'bus' }), row(H, 'v1', { distance_km: 5, moving_s: 900, idle_s: 300, speeding_events: 0, max_speed_kmh: 40 }, { vehicleType: 'bus' })];
    expect(fleetKpis(rows, { from: 0, to: 2 * H })[0]).toEqual({
      municipality: 'kalamata',
      device: 'v1',
      vehicle_type: 'bus',
      distance_km: 15,
      moving_h: 0.75,
      idle_h: 0.25,
      utilisation_pct: 50,
      idle_pct: 25,
      speeding_events: 1,
      max_speed_kmh: 62,
    });
  });

  it('gives parking occupancy over observed bay time, turnover per bay per day and mean dwell', () => {
    const lot = { lot: 'lot-1', district: 'kentro' };
    const rows = [row(0, 'b1', { occupied_s: 900, arrivals: 2, departures: 1, dwell_s_sum: 1200, capacity: 40 }, lot), row(0, 'b2', { occupied_s: 0, arrivals: 0, departures: 1, dwell_s_sum: 600, capacity: 40 }, lot)];
    expect(parkingKpis(rows, { from: 0, to: 24 * H })[0]).toEqual({ municipality: 'kalamata', lot: 'lot-1', district: 'kentro', bays: 2, capacity: 40, occupancy_pct: 50, arrivals: 2, turnover_per_bay_day: 1, mean_dwell_min: 15 });
  });
});

describe('device health', () => {
  it('marks devices silent after the threshold, and never-seen devices silent too', () => {
    const now = 10 * 60_000;
    const out = deviceHealth(
      [
        { id: 'a', municipality: 'm', kind: 'energy' },
        { id: 'b', municipality: 'm', kind: 'energy' },
        { id: 'c', municipality: 'm', kind: 'fleet' },
      ],
      [
        { device: 'a', municipality: 'm', kind: 'energy', lastSeen: now - 60_000 },
        { device: 'b', municipality: 'm', kind: 'energy', lastSeen: now - 6 * 60_000 },
      ],
      now,
      5 * 60_000,
    );
    expect(out.map((d) => [d.device, d.silent, d.silent_for_s])).toEqual([
      ['a', false, 60],
      ['b', true, 360],
      ['c', true, null],
    ]);
  });
});
