/**
 * Where a device's carry comes from when this process has not seen its previous window (after a
 * restart or a rebalance): the `carry` field of that window's aggregate point in InfluxDB, which
 * was written before the commit moved past it. One Flux query per window start for all devices.
 */
import { Point } from '@influxdata/influxdb-client';
import type { InfluxStore } from '../../shared/influx/client.ts';
import { TAG_ATTRIBUTES } from '../../shared/influx/points.ts';
import type { Carry } from './aggregate.ts';
import type { OpenWindow } from './windows.ts';

/** How far back a previous window is looked for; beyond it a device starts afresh. */
const LOOKBACK_MS = 30 * 24 * 3_600_000;

const fluxString = (s: string) => JSON.stringify(s);

export async function loadCarries(store: InfluxStore, measurement: string, before: number, devices: string[]): Promise<Map<string, Carry>> {
  const out = new Map<string, Carry>();
  if (devices.length === 0) return out;
  // Stop 1 ms early: InfluxDB 1.8 returns points at `stop` itself, which would hand a replayed
  // window its own carry instead of its predecessor's.
  const flux = `from(bucket: ${fluxString(store.bucket)})
  |> range(start: time(v: ${(before - LOOKBACK_MS) * 1_000_000}), stop: time(v: ${(before - 1) * 1_000_000}))
  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)} and r._field == "carry")
  |> filter(fn: (r) => contains(value: r.device, set: [${devices.map(fluxString).join(', ')}]))
  |> group(columns: ["device"])
  |> last()`;
  const rows = await store.query().collectRows<{ device: string; _value: string }>(flux);
  for (const row of rows) out.set(row.device, JSON.parse(row._value) as Carry);
  return out;
}

export function aggregatePoint(w: OpenWindow, measurement: string, fields: Record<string, number>, carry: Carry): Point {
  const p = new Point(measurement).tag('municipality', w.municipality).tag('device', w.deviceId).timestamp(w.start);
  for (const key of TAG_ATTRIBUTES) {
    const v = w.attrs[key];
    if (typeof v === 'string' && v !== '') p.tag(key, v);
  }
  for (const [k, v] of Object.entries(fields)) p.floatField(k, v);
  p.stringField('carry', JSON.stringify(carry));
  return p;
}
