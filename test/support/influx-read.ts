/** Reading back what the pipeline wrote, for assertions. */
import type { InfluxTelemetryStore } from '../../shared/influx/telemetry-store.ts';
import { countRawPoints } from '../../shared/influx/counts.ts';
import type { Kind } from '../../shared/schemas/topics.ts';
import { isAggregate } from '../../shared/store/store.ts';

const RANGE = 'range(start: 2000-01-01T00:00:00Z, stop: 2100-01-01T00:00:00Z)';

/** Fields of every point of `measurement`, keyed `${device}@${timeMs}`. */
export async function readPoints(telemetry: InfluxTelemetryStore, measurement: string): Promise<Map<string, Record<string, number>>> {
  const store = isAggregate(measurement) ? telemetry.aggregates : telemetry.raw;
  const rows = await store.query().collectRows<{ device: string; _time: string; _field: string; _value: number | string | boolean }>(
    `from(bucket: "${store.bucket}") |> ${RANGE} |> filter(fn: (r) => r._measurement == "${measurement}" and r._field != "carry")`,
  );
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const key = `${r.device}@${Date.parse(r._time)}`;
    const rec = out.get(key) ?? {};
    rec[r._field] = typeof r._value === 'number' ? r._value : Number(r._value);
    out.set(key, rec);
  }
  return out;
}

export const countRaw = (telemetry: InfluxTelemetryStore, measurement: Kind) => countRawPoints(telemetry.raw, measurement);
