/**
 * Canonical reading → InfluxDB point (raw measurements `energy`, `fleet`, `parking`).
 * Idempotent by construction: the series (measurement + tags) and the timestamp come only from
 * the reading, so writing the same reading twice overwrites the same point.
 */
import { Point } from '@influxdata/influxdb-client';
import type { CanonicalReading } from '../schemas/readings.ts';

/** Registry attributes that become tags (groupings); numeric attributes become fields. */
export const TAG_ATTRIBUTES = ['district', 'building', 'buildingType', 'circuit', 'lot', 'vehicleType'] as const;

export function readingToPoint(r: CanonicalReading): Point {
  const p = new Point(r.kind).tag('municipality', r.municipality).tag('device', r.deviceId).timestamp(r.ts);
  for (const key of TAG_ATTRIBUTES) {
    const v = r.attrs[key];
    if (typeof v === 'string' && v !== '') p.tag(key, v);
  }
  for (const [k, v] of Object.entries(r.values)) {
    if (typeof v === 'boolean') p.booleanField(k, v);
    else if (typeof v === 'number') p.floatField(k, v);
  }
  if (typeof r.attrs.capacity === 'number') p.floatField('capacity', r.attrs.capacity);
  if (r.tsFromGateway) p.booleanField('ts_from_gateway', true);
  return p;
}
