/**
 * Canonical reading → store point (raw measurements `energy`, `fleet`, `parking`).
 * Idempotent by construction: the series (measurement + tags) and the timestamp come only from
 * the reading, so writing the same reading twice overwrites the same point.
 */
import type { CanonicalReading } from '../schemas/readings.ts';
import type { FieldValue, StorePoint } from './store.ts';

/** Registry attributes that become tags (groupings); numeric attributes become fields. */
export const TAG_ATTRIBUTES = ['district', 'building', 'buildingType', 'circuit', 'lot', 'vehicleType'] as const;

/** Tags of a point: municipality, device and the grouping attributes it has. */
export function groupingTags(municipality: string, deviceId: string, attrs: Record<string, string | number>): Record<string, string> {
  const tags: Record<string, string> = { municipality, device: deviceId };
  for (const key of TAG_ATTRIBUTES) {
    const v = attrs[key];
    if (typeof v === 'string' && v !== '') tags[key] = v;
  }
  return tags;
}

/** `tags`: the reading's grouping tags when the caller has them (one object for all the readings of a device message). */
export function readingToPoint(r: CanonicalReading, tags: Readonly<Record<string, string>> = groupingTags(r.municipality, r.deviceId, r.attrs)): StorePoint {
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(r.values)) if (typeof v === 'boolean' || typeof v === 'number') fields[k] = v;
  if (typeof r.attrs.capacity === 'number') fields.capacity = r.attrs.capacity;
  if (r.tsFromGateway) fields.ts_from_gateway = true;
  return { measurement: r.kind, tags, fields, ts: r.ts };
}
