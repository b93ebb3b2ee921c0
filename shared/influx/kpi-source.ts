/**
 * The KPI source on InfluxDB: Flux queries for aggregate windows (pivoted to one row per window)
 * and each device's newest raw reading.
 */
import type { AggregateMeasurement, DeviceLastSeen, KpiSource, TimeRange, WindowRow } from '../kpi/source.ts';
import type { InfluxStore } from './client.ts';

/** Columns of a pivoted row that are not fields. */
const META = new Set(['result', 'table', '_start', '_stop', '_time', '_measurement', 'municipality', 'device']);
/** Every raw measurement has this field on every reading: it marks "a reading arrived". */
const PRESENCE_FIELD: Record<string, string> = { energy: 'energy_wh', fleet: 'lat', parking: 'occupied' };

const str = (s: string) => JSON.stringify(s);
const time = (ms: number) => `time(v: ${BigInt(ms) * 1_000_000n})`;
const municipalityFilter = (m: string | undefined) => (m === undefined ? '' : `\n  |> filter(fn: (r) => r.municipality == ${str(m)})`);

export class InfluxKpiSource implements KpiSource {
  /** `raw` holds the readings (for last seen), `aggregates` the windows; often the same bucket. */
  constructor(
    private readonly raw: InfluxStore,
    private readonly aggregates: InfluxStore = raw,
  ) {}

  async windows(measurement: AggregateMeasurement, q: TimeRange & { municipality?: string }): Promise<WindowRow[]> {
    const flux = `from(bucket: ${str(this.aggregates.bucket)})
  |> range(start: ${time(q.from)}, stop: ${time(q.to)})
  |> filter(fn: (r) => r._measurement == ${str(measurement)})${municipalityFilter(q.municipality)}
  |> filter(fn: (r) => r._field != "carry")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`;
    const rows = await this.aggregates.query().collectRows<Record<string, unknown>>(flux);
    // InfluxDB 1.8's storage includes points at `stop` itself; the contract is [from, to).
    return rows.flatMap((row) => {
      const start = Date.parse(String(row._time));
      if (start < q.from || start >= q.to) return [];
      const tags: Record<string, string> = {};
      const fields: Record<string, number> = {};
      for (const [k, v] of Object.entries(row)) {
        if (META.has(k) || v === null || v === undefined || v === '') continue;
        if (typeof v === 'number') fields[k] = v;
        else if (typeof v === 'string') tags[k] = v;
      }
      return [{ start, municipality: String(row.municipality), device: String(row.device), tags, fields }];
    });
  }

  async lastSeen(q: { municipality?: string; since: number }): Promise<DeviceLastSeen[]> {
    const presence = Object.entries(PRESENCE_FIELD)
      .map(([m, f]) => `(r._measurement == ${str(m)} and r._field == ${str(f)})`)
      .join(' or ');
    const flux = `from(bucket: ${str(this.raw.bucket)})
  |> range(start: ${time(q.since)})
  |> filter(fn: (r) => ${presence})${municipalityFilter(q.municipality)}
  |> group(columns: ["_measurement", "municipality", "device"])
  |> last()
  |> keep(columns: ["_time", "_measurement", "municipality", "device"])`;
    const rows = await this.raw.query().collectRows<{ _time: string; _measurement: string; municipality: string; device: string }>(flux);
    return rows.map((r) => ({ municipality: r.municipality, device: r.device, kind: r._measurement, lastSeen: Date.parse(r._time) }));
  }
}
