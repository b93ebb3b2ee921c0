import { describe, expect, it } from 'vitest';
import { InfluxTelemetryStore, toInfluxPoint } from './telemetry-store.ts';

describe('InfluxTelemetryStore refusals', () => {
  it('refuses a non-finite number before sending, as a refusal (not a store that is away)', () => {
    const store = new InfluxTelemetryStore({ INFLUX_URL: 'http://127.0.0.1:9', INFLUX_TOKEN: '', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b' });
    let thrown: unknown;
    try {
      toInfluxPoint({ measurement: 'energy_15m', tags: { device: 'd' }, fields: { energy_kwh: Number.NaN }, ts: 0 });
    } catch (err) {
      thrown = err;
    }
    expect(String(thrown)).toMatch(/energy_kwh.*device d.*NaN/);
    expect(store.isRefusal(thrown)).toBe(true);
    expect(store.isRefusal(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});
