/**
 * Energy meter of a municipal building or a street-lighting circuit: a cumulative Wh counter
 * driven by a daily and weekly load curve per building type, and now and then a counter reset
 * (meter replaced).
 */
import type { Rng } from '../rng.ts';

export const BUILDING_TYPES = ['town-hall', 'school', 'gym', 'street-lighting'] as const;
export type BuildingType = (typeof BUILDING_TYPES)[number];

/** kW at full load, per building type. */
const PEAK_KW: Record<BuildingType, number> = { 'town-hall': 60, school: 45, gym: 35, 'street-lighting': 18 };

/** Share of peak load at a local hour on a weekday or a weekend day (Europe/Athens ≈ UTC+2). */
export function loadShare(type: BuildingType, tsMs: number): number {
  const d = new Date(tsMs + 2 * 3600_000);
  const hour = d.getUTCHours() + d.getUTCMinutes() / 60;
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  const day = (from: number, to: number) => (hour >= from && hour < to ? 1 : 0);
  switch (type) {
    case 'street-lighting':
      return hour < 6.5 || hour >= 18 ? 1 : 0.02;
    case 'school':
      return weekend ? 0.08 : 0.1 + 0.85 * day(8, 14) + 0.2 * day(14, 17);
    case 'town-hall':
      return weekend ? 0.12 : 0.15 + 0.8 * day(7.5, 15.5);
    case 'gym':
      return 0.1 + 0.6 * day(7, 10) + 0.9 * day(17, 22) + (weekend ? 0.3 * day(10, 14) : 0);
  }
}

export interface EnergyReading {
  energy_wh: number;
  power_w: number;
  voltage_v: number;
}

export class EnergyMeter {
  private counterWh: number;
  private lastTs: number | undefined;

  readonly type: BuildingType;
  private readonly rng: Rng;
  /** Chance per reading that the meter is replaced and its counter restarts at 0. */
  private readonly resetChance: number;

  constructor(type: BuildingType, rng: Rng, resetChance = 0.0005) {
    this.type = type;
    this.rng = rng;
    this.resetChance = resetChance;
    this.counterWh = Math.round(rng.between(1e5, 5e7));
  }

  next(tsMs: number): EnergyReading {
    const powerW = Math.max(0, PEAK_KW[this.type] * 1000 * loadShare(this.type, tsMs) * (1 + this.rng.normal(0, 0.05)));
    if (this.lastTs !== undefined && tsMs > this.lastTs) this.counterWh += (powerW * (tsMs - this.lastTs)) / 3_600_000;
    this.lastTs = tsMs;
    if (this.rng.chance(this.resetChance)) this.counterWh = 0;
    return {
      energy_wh: Math.round(this.counterWh * 10) / 10,
      power_w: Math.round(powerW),
      voltage_v: Math.round(this.rng.normal(230, 2) * 10) / 10,
    };
  }
}
