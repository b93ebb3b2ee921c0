/**
 * The telemetry store on InfluxDB: raw points to INFLUX_BUCKET, aggregates to INFLUX_AGG_BUCKET
 * (the same bucket when unset), read back with Flux: aggregate windows pivoted to one row per
 * window, each device's newest raw reading, a device's previous window's carry.
 */
import type { AggregateMeasurement, DeviceLastSeen, TimeRange, WindowRow } from '../kpi/source.ts';
import { VOCABULARY } from '../schemas/kinds.ts';
import { KINDS, type Kind } from '../schemas/topics.ts';
import { ALARM_MEASUREMENT, type AlarmQuery } from '../store/alarms.ts';
import { keptLong, PIPELINE_MEASUREMENT, type StorePoint, type TelemetryStore } from '../store/store.ts';
import { EDGE_METRIC, type EdgeFigures } from '../edge/view.ts';
import { InfluxStore, type InfluxSettings } from './client.ts';
import { toLine, UnwritablePoint } from './line-protocol.ts';

/** Columns of a pivoted row that are not fields. */
const META = new Set(['result', 'table', '_start', '_stop', '_time', '_measurement', 'municipality', 'device']);

/**
 * A Flux string literal: JSON's escapes, plus `${` escaped, which Flux would otherwise read as
 * string interpolation (a device id or attribute must never become an expression).
 */
export const str = (s: string) => JSON.stringify(s).replace(/\$\{/g, '\\${');
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const municipalityFilter = (m: string | undefined) => (m === undefined ? '' : `\n  |> filter(fn: (r) => r.municipality == ${str(m)})`);

/**
 * `[from, to)` as a Flux range. InfluxDB 1.8's storage returns points at `stop` itself (2.x does
 * not), so stop one nanosecond early: points carry millisecond timestamps, so both agree.
 */
export const halfOpenRange = (from: number, to: number) => `range(start: time(v: ${ns(from)}), stop: time(v: ${ns(to) - 1n}))`;

/** Flux: a kind's presence fields (every reading has one of them: it marks "a reading arrived"). */
export const presenceOf = (kind: Kind) => {
  const v = VOCABULARY[kind];
  return `(r._measurement == ${str(v.raw)} and (${v.presenceFields.map((f) => `r._field == ${str(f)}`).join(' or ')}))`;
};

/** Flux: any raw reading's presence field. */
export const presenceFilter = () => KINDS.map(presenceOf).join(' or ');

/** Line protocol for the points that have fields (the others are not points InfluxDB can hold). */
function lines(points: StorePoint[]): string[] {
  const out: string[] = [];
  for (const p of points) {
    const line = toLine(p);
    if (line !== undefined) out.push(line);
  }
  return out;
}

export class InfluxTelemetryStore implements TelemetryStore {
  readonly kind = 'influxdb';
  readonly raw: InfluxStore;
  readonly aggregates: InfluxStore;

  constructor(cfg: InfluxSettings & { INFLUX_AGG_BUCKET?: string }) {
    this.raw = new InfluxStore(cfg);
    this.aggregates = cfg.INFLUX_AGG_BUCKET ? new InfluxStore({ ...cfg, INFLUX_BUCKET: cfg.INFLUX_AGG_BUCKET }) : this.raw;
  }

  async write(points: StorePoint[]): Promise<void> {
    const agg = points.filter((p) => keptLong(p.measurement));
    const raw = points.filter((p) => !keptLong(p.measurement));
    if (raw.length > 0) await this.raw.write(lines(raw));
    if (agg.length > 0) await this.aggregates.write(lines(agg));
  }

  isRefusal(err: unknown): boolean {
    // 400: unparsable or conflicting points (field type conflict); 422: outside the retention.
    const status = (err as { statusCode?: number } | null)?.statusCode;
    return status === 400 || status === 422 || err instanceof UnwritablePoint;
  }

  async deleteRaw(kind: Kind, before: number, municipality?: string): Promise<void> {
    // The delete predicate's strings are double-quoted; ids are [a-z0-9-] (identSchema), kinds fixed.
    const predicate = `_measurement="${kind}"${municipality === undefined ? '' : ` AND municipality="${municipality}"`}`;
    await this.raw.delete(0, before, predicate);
  }

  async deleteDevice(device: string): Promise<void> {
    const predicate = `device=${JSON.stringify(device)}`; // ids are [a-z0-9-] (identSchema)
    await this.raw.delete(0, Date.now() + 366 * 86_400_000, predicate);
    if (this.aggregates !== this.raw) await this.aggregates.delete(0, Date.now() + 366 * 86_400_000, predicate);
  }

  async previousCarries(measurement: string, before: number, devices: string[], lookbackMs: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (devices.length === 0) return out;
    const flux = `from(bucket: ${str(this.aggregates.bucket)})
  |> ${halfOpenRange(before - lookbackMs, before)}
  |> filter(fn: (r) => r._measurement == ${str(measurement)} and r._field == "carry")
  |> filter(fn: (r) => contains(value: r.device, set: [${devices.map(str).join(', ')}]))
  |> group(columns: ["device"])
  |> last()`;
    const rows = await this.aggregates.query().collectRows<{ device: string; _value: string }>(flux);
    for (const row of rows) out.set(row.device, row._value);
    return out;
  }

  async devicePoints(measurement: string, device: string, from: number, to: number): Promise<StorePoint[]> {
    const source = keptLong(measurement) ? this.aggregates : this.raw;
    const flux = `from(bucket: ${str(source.bucket)})
  |> ${halfOpenRange(from, to)}
  |> filter(fn: (r) => r._measurement == ${str(measurement)} and r.device == ${str(device)})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])`;
    const rows = await source.query().collectRows<Record<string, unknown>>(flux);
    return rows.map((row) => {
      const tags: Record<string, string> = {};
      const fields: StorePoint['fields'] = {};
      for (const [k, v] of Object.entries(row)) {
        if (k === 'municipality' || k === 'device') tags[k] = String(v);
        else if (META.has(k) || v === null || v === undefined || v === '') continue;
        else if (typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
        else if (typeof v === 'string' && k === 'carry') fields[k] = v;
        else if (typeof v === 'string') tags[k] = v;
      }
      return { measurement, tags, fields, ts: Date.parse(String(row._time)) };
    });
  }

  async alarmPoints(q: AlarmQuery): Promise<StorePoint[]> {
    const match = [`r._measurement == ${str(ALARM_MEASUREMENT)}`, ...(q.municipality === undefined ? [] : [`r.municipality == ${str(q.municipality)}`]), ...(q.subject === undefined ? [] : [`r.device == ${str(q.subject)}`])].join(' and ');
    const flux = `from(bucket: ${str(this.aggregates.bucket)})
  |> ${halfOpenRange(q.from, q.to)}
  |> filter(fn: (r) => ${match})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])`;
    const rows = await this.aggregates.query().collectRows<Record<string, unknown>>(flux);
    return rows.map((row) => {
      const tags = { municipality: String(row.municipality), device: String(row.device), alarm: String(row.alarm) };
      const fields: StorePoint['fields'] = {};
      for (const k of ['rule', 'type', 'kind', 'severity', 'evidence', 'cleared_at', 'notified_raised_at', 'notified_cleared_at']) {
        const v = row[k];
        if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
      }
      return { measurement: ALARM_MEASUREMENT, tags, fields, ts: Date.parse(String(row._time)) };
    });
  }

  async windows(measurement: AggregateMeasurement, q: TimeRange & { municipality?: string }): Promise<WindowRow[]> {
    const flux = `from(bucket: ${str(this.aggregates.bucket)})
  |> ${halfOpenRange(q.from, q.to)}
  |> filter(fn: (r) => r._measurement == ${str(measurement)})${municipalityFilter(q.municipality)}
  |> filter(fn: (r) => r._field != "carry")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`;
    const rows = await this.aggregates.query().collectRows<Record<string, unknown>>(flux);
    return rows.map((row) => {
      const tags: Record<string, string> = {};
      const fields: Record<string, number> = {};
      for (const [k, v] of Object.entries(row)) {
        if (META.has(k) || v === null || v === undefined || v === '') continue;
        if (typeof v === 'number') fields[k] = v;
        else if (typeof v === 'string') tags[k] = v;
      }
      return { start: Date.parse(String(row._time)), municipality: String(row.municipality), device: String(row.device), tags, fields };
    });
  }

  async lastSeen(q: { municipality?: string; since: number }): Promise<DeviceLastSeen[]> {
    // Only the time is kept before grouping: a vehicle's presence fields differ in type.
    const presence = presenceFilter();
    const flux = `from(bucket: ${str(this.raw.bucket)})
  |> range(start: time(v: ${ns(q.since)}))
  |> filter(fn: (r) => ${presence})${municipalityFilter(q.municipality)}
  |> keep(columns: ["_time", "_measurement", "municipality", "device"])
  |> group(columns: ["_measurement", "municipality", "device"])
  |> last(column: "_time")`;
    const rows = await this.raw.query().collectRows<{ _time: string; _measurement: string; municipality: string; device: string }>(flux);
    return rows.map((r) => ({ municipality: r.municipality, device: r.device, kind: r._measurement, lastSeen: Date.parse(r._time) }));
  }

  async edgeFigures(since: number): Promise<EdgeFigures[]> {
    const fields = Object.values(EDGE_METRIC).map((f) => `r._field == ${str(f)}`).join(' or ');
    const flux = `from(bucket: ${str(this.raw.bucket)})
  |> range(start: time(v: ${ns(since)}))
  |> filter(fn: (r) => r._measurement == ${str(PIPELINE_MEASUREMENT)} and (${fields}) and exists r.edge)
  |> group(columns: ["edge", "_field"])
  |> last()
  |> keep(columns: ["edge", "_field", "_value"])`;
    const rows = await this.raw.query().collectRows<{ edge: string; _field: string; _value: number }>(flux);
    const byEdge = new Map<string, Record<string, number>>();
    for (const r of rows) byEdge.set(r.edge, { ...byEdge.get(r.edge), [r._field]: Number(r._value) });
    return [...byEdge].map(([edge, fields]) => ({ edge, fields }));
  }

  async healthy(): Promise<boolean> {
    return this.raw.healthy();
  }

  async close(): Promise<void> {}
}
