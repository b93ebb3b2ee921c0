import { describe, expect, it } from 'vitest';
import { parseSamples } from './prometheus-samples.ts';

describe('parseSamples', () => {
  const text = [
    '# HELP gateway_connected_devices Authenticated MQTT connections',
    '# TYPE gateway_connected_devices gauge',
    'gateway_connected_devices{service="gateway"} 12',
    'normalizer_deadletter_total{service="normalizer",field="ts"} 3',
    'normalizer_deadletter_total{service="normalizer",field="a \\"quoted\\" one"} 1',
    'writer_store_write_seconds_bucket{le="0.1",service="writer"} 5',
    'writer_store_write_seconds_sum{service="writer"} 0.25',
    'process_cpu_seconds_total 1.5 1700000000000',
    'weird_gauge NaN',
  ].join('\n');

  it('reads names, labels (with escapes) and values, and skips comments, buckets and NaN', () => {
    expect(parseSamples(text)).toEqual([
      { name: 'gateway_connected_devices', labels: { service: 'gateway' }, value: 12 },
      { name: 'normalizer_deadletter_total', labels: { service: 'normalizer', field: 'ts' }, value: 3 },
      { name: 'normalizer_deadletter_total', labels: { service: 'normalizer', field: 'a "quoted" one' }, value: 1 },
      { name: 'writer_store_write_seconds_sum', labels: { service: 'writer' }, value: 0.25 },
      { name: 'process_cpu_seconds_total', labels: {}, value: 1.5 },
    ]);
  });

  it('keeps only what the filter accepts', () => {
    expect(parseSamples(text, (n) => n.startsWith('gateway_')).map((s) => s.name)).toEqual(['gateway_connected_devices']);
  });
});
