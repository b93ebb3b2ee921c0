/** How many raw points (= readings) a measurement holds: one count per measurement, as types differ. */
import type { InfluxStore } from './client.ts';

const KEY_FIELD = { energy: 'energy_wh', fleet: 'lat', parking: 'occupied' } as const;

export async function countRawPoints(store: InfluxStore, measurement: keyof typeof KEY_FIELD): Promise<number> {
  const rows = await store.query().collectRows<{ _value: number }>(
    `from(bucket: "${store.bucket}") |> range(start: 2000-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "${measurement}" and r._field == "${KEY_FIELD[measurement]}") |> group() |> count()`,
  );
  return rows[0]?._value ?? 0;
}
