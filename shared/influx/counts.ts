/**
 * How many raw points (= readings) a measurement holds: counted per presence field (a vehicle's
 * `lat` and `private_use` differ in type, which one Flux table cannot hold) and summed.
 */
import type { Kind } from '../schemas/topics.ts';
import type { InfluxStore } from './client.ts';
import { presenceFilter, presenceOf, str } from './telemetry-store.ts';

export async function countRawPoints(store: InfluxStore, measurement: Kind): Promise<number> {
  const rows = await store.query().collectRows<{ _value: number }>(
    `from(bucket: "${store.bucket}") |> range(start: 2000-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z) |> filter(fn: (r) => ${presenceOf(measurement)}) |> group(columns: ["_field"]) |> count()`,
  );
  return rows.reduce((n, r) => n + r._value, 0);
}

/**
 * Flux for every reading stored since `from`, one row per reading: each kind's presence field.
 * Pipe it into `count()` or `keep()`.
 */
export function readingsSince(bucket: string, from: Date): string {
  return `from(bucket: ${str(bucket)}) |> range(start: ${from.toISOString()}) |> filter(fn: (r) => ${presenceFilter()})`;
}
