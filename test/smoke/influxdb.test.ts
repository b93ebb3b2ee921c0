/** Proves the store is a real InfluxDB with the v2 API: a point written and read back with Flux. */
import { describe, expect, it } from 'vitest';
import { Point } from '@influxdata/influxdb-client';
import { INFLUX_VERSION } from '../../engines/paths.ts';
import { servicesEnv, testInflux } from '../support/services.ts';

describe('InfluxDB (real server, v2 API)', () => {
  it('writes a point with the v2 write API and reads it back with Flux', async () => {
    const env = servicesEnv();
    const influx = testInflux();
    const device = `smoke-${Date.now()}`;
    const ts = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
    const writer = influx.getWriteApi(env.INFLUX_ORG!, env.INFLUX_BUCKET!, 'ms');
    writer.writePoint(new Point('energy').tag('municipality', 'mytilene').tag('device', device).floatField('energy_wh', 1234.5).timestamp(ts));
    await writer.close();

    const rows = await influx.getQueryApi(env.INFLUX_ORG!).collectRows<{ _value: number; _time: string; device: string }>(
      `from(bucket: "${env.INFLUX_BUCKET}")
        |> range(start: 2026-11-25T00:00:00Z, stop: 2026-11-26T00:00:00Z)
        |> filter(fn: (r) => r._measurement == "energy" and r.device == "${device}")`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?._value).toBe(1234.5);
    expect(rows[0]?._time).toBe(ts.toISOString().replace('.000', ''));
  });

  it('reports itself healthy on /health with its version', async () => {
    const res = await fetch(`${servicesEnv().INFLUX_URL}/health`);
    const body = (await res.json()) as { status: string; version: string };
    expect(body.status).toBe('pass');
    expect(body.version).toBe(INFLUX_VERSION); // 2.x unless SMARTCITY_INFLUX=1.8
  });
});
