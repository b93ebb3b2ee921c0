/**
 * Energy KPIs from the aggregator's `energy_15m` windows (one per meter and quarter hour):
 * consumption per building, district or municipality per day/week/month, peak demand, and savings
 * against a baseline period.
 *
 * Peak demand follows the utilities' definition: the highest 15-minute average demand, i.e. the
 * largest quarter hour's kWh of the whole group × 4, so a group's peak is the moment its meters
 * drew most together — not the sum of each meter's own peak.
 */
import { byKeys, groupBy, round, sum } from './group.ts';
import { periodOf, type Interval } from './periods.ts';
import { WINDOW_MS, type TimeRange, type WindowRow } from './source.ts';

export type EnergyGrouping = 'building' | 'district' | 'municipality';

export interface EnergyKpi {
  period: string;
  municipality: string;
  group: string;
  kwh: number;
  peak_kw: number;
  meters: number;
}

export interface EnergySavings {
  municipality: string;
  group: string;
  baseline_kwh_per_day: number;
  current_kwh_per_day: number;
  /** Positive = less energy than in the baseline period. */
  savings_pct: number | null;
}

const HOURS_PER_WINDOW = WINDOW_MS.energy_15m / 3_600_000;

export function groupOf(row: WindowRow, by: EnergyGrouping): string {
  switch (by) {
    case 'building':
      return row.tags.building ?? row.device;
    case 'district':
      return row.tags.district ?? 'unassigned';
    case 'municipality':
      return row.municipality;
  }
}

const kwh = (row: WindowRow) => row.fields.energy_kwh ?? 0;

/** Highest quarter-hour demand of a set of windows (several meters share each quarter hour). */
function peakKw(rows: WindowRow[]): number {
  let peak = 0;
  for (const quarter of groupBy(rows, (r) => String(r.start)).values()) peak = Math.max(peak, sum(quarter.map(kwh)) / HOURS_PER_WINDOW);
  return peak;
}

export function energyConsumption(rows: WindowRow[], by: EnergyGrouping, interval: Interval): EnergyKpi[] {
  const out: EnergyKpi[] = [];
  const groups = groupBy(rows, (r) => `${periodOf(r.start, interval)}\u0000${r.municipality}\u0000${groupOf(r, by)}`);
  for (const [key, list] of groups) {
    const [period = '', municipality = '', group = ''] = key.split('\u0000');
    out.push({
      period,
      municipality,
      group,
      kwh: round(sum(list.map(kwh))),
      peak_kw: round(peakKw(list)),
      meters: new Set(list.map((r) => r.device)).size,
    });
  }
  return out.sort(byKeys<EnergyKpi>('period', 'municipality', 'group'));
}

const days = (r: TimeRange) => (r.to - r.from) / 86_400_000;

/** kWh per day in the current period against the baseline period, per group (periods may differ in length). */
export function energySavings(current: WindowRow[], currentRange: TimeRange, baseline: WindowRow[], baselineRange: TimeRange, by: EnergyGrouping): EnergySavings[] {
  const key = (r: WindowRow) => `${r.municipality}\u0000${groupOf(r, by)}`;
  const cur = groupBy(current, key);
  const base = groupBy(baseline, key);
  const out: EnergySavings[] = [];
  for (const k of new Set([...cur.keys(), ...base.keys()])) {
    const [municipality = '', group = ''] = k.split('\u0000');
    const b = sum((base.get(k) ?? []).map(kwh)) / days(baselineRange);
    const c = sum((cur.get(k) ?? []).map(kwh)) / days(currentRange);
    out.push({
      municipality,
      group,
      baseline_kwh_per_day: round(b),
      current_kwh_per_day: round(c),
      savings_pct: b > 0 ? round(((b - c) / b) * 100, 2) : null,
    });
  }
  return out.sort(byKeys<EnergySavings>('municipality', 'group'));
}
