/**
 * What each rule asks of one reading: whether its condition holds, or `undefined` when the reading
 * does not say (a threshold on `power_w` and a meter that sent only its counter). Pure.
 */
import { located, type CanonicalReading } from '../../shared/schemas/readings.ts';
import type { AlarmRule } from './rules.ts';

const athensHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Athens', hour: 'numeric', hourCycle: 'h23' });

/** The hour of the day in Athens (0–23) at `ts`: daylight is judged by local time, summer time included. */
export function athensHourOf(ts: number): number {
  return Number(athensHour.format(new Date(ts)));
}

/** Whether [lon, lat] lies inside the polygon (ray casting; a point on an edge may fall either way). */
export function insidePolygon(point: readonly [number, number], polygon: readonly (readonly [number, number])[]): boolean {
  const [x, y] = point;
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The condition of a per-device rule on one reading (silence and occupancy are judged elsewhere). */
export function holds(rule: AlarmRule, r: CanonicalReading): boolean | undefined {
  switch (rule.type) {
    case 'threshold': {
      const v = (r.values as Record<string, unknown>)[rule.field];
      if (typeof v !== 'number') return undefined;
      return rule.above !== undefined ? v > rule.above : v < rule.below!;
    }
    case 'daylight-draw': {
      if (r.kind !== 'energy' || r.values.power_w === undefined) return undefined;
      const h = athensHourOf(r.ts);
      return h >= rule.fromHour && h < rule.toHour && r.values.power_w >= rule.minPowerW;
    }
    case 'idling':
      if (r.kind !== 'fleet' || r.values.ignition === undefined) return undefined;
      return r.values.ignition && (r.values.speed_kmh ?? 0) <= rule.maxSpeedKmh;
    case 'geofence':
      // A vehicle in private use has no position: no verdict either way.
      if (r.kind !== 'fleet' || !located(r.values)) return undefined;
      return !insidePolygon([r.values.lon, r.values.lat], rule.polygon);
    case 'silence':
    case 'occupancy':
      return undefined;
  }
}
