/**
 * The telemetry store on InfluxDB: raw points to INFLUX_BUCKET, aggregates to INFLUX_AGG_BUCKET
 * (the same bucket when unset); KPI reads through the Flux queries of InfluxKpiSource.
 */
import { Point } from '@influxdata/influxdb-client';
import type { AggregateMeasurement, DeviceLastSeen, TimeRange, WindowRow } from '../kpi/source.ts';
import { isAggregate, type StorePoint, type TelemetryStore } from '../store/store.ts';
import { InfluxStore, type InfluxSettings } from './client.ts';
import { InfluxKpiSource } from './kpi-source.ts';

export function toInfluxPoint(p: StorePoint): Point {
  const point = new Point(p.measurement).timestamp(p.ts);
  for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') point.floatField(k, v);
    else if (typeof v === 'boolean') point.booleanField(k, v);
    else point.stringField(k, v);
  }
  return point;
}

const str = (s: string) => JSON.stringify(s);

export class InfluxTelemetryStore implements TelemetryStore {
  readonly kind = 'influxdb';
  readonly raw: InfluxStore;
  readonly aggregates: InfluxStore;
  private readonly kpi: InfluxKpiSource;

  constructor(cfg: InfluxSettings & { INFLUX_AGG_BUCKET?: string }) {
    this.raw = new InfluxStore(cfg);
    this.aggregates = cfg.INFLUX_AGG_BUCKET ? new InfluxStore({ ...cfg, INFLUX_BUCKET: cfg.INFLUX_AGG_BUCKET }) : this.raw;
    this.kpi = new InfluxKpiSource(this.raw, this.aggregates);
  }

  async write(points: StorePoint[]): Promise<void> {
    const agg = points.filter((p) => isAggregate(p.measurement));
    const raw = points.filter((p) => !isAggregate(p.measurement));
    if (raw.length > 0) await this.raw.write(raw.map(toInfluxPoint));
    if (agg.length > 0) await this.aggregates.write(agg.map(toInfluxPoint));
  }

  async previousCarries(measurement: string, before: number, devices: string[], lookbackMs: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (devices.length === 0) return out;
    // Stop 1 ms early: InfluxDB 1.8 returns points at `stop` itself, which would hand a replayed
    // window its own carry instead of its predecessor's.
    const flux = `from(bucket: ${str(this.aggregates.bucket)})
  |> range(start: time(v: ${(before - lookbackMs) * 1_000_000}), stop: time(v: ${(before - 1) * 1_000_000}))
  |> filter(fn: (r) => r._measurement == ${str(measurement)} and r._field == "carry")
  |> filter(fn: (r) => contains(value: r.device, set: [${devices.map(str).join(', ')}]))
  |> group(columns: ["device"])
  |> last()`;
    const rows = await this.aggregates.query().collectRows<{ device: string; _value: string }>(flux);
    for (const row of rows) out.set(row.device, row._value);
    return out;
  }

  windows(measurement: AggregateMeasurement, q: TimeRange & { municipality?: string }): Promise<WindowRow[]> {
    return this.kpi.windows(measurement, q);
  }

  lastSeen(q: { municipality?: string; since: number }): Promise<DeviceLastSeen[]> {
    return this.kpi.lastSeen(q);
  }

  async healthy(): Promise<boolean> {
    return this.raw.healthy();
  }

  async close(): Promise<void> {}
}
