/**
 * End to end on the real engines: simulator → MQTT gateway → Kafka → normaliser → writer and
 * aggregator → InfluxDB. Every delivered reading is exactly one raw point, and every aggregate
 * equals an independent recomputation from the simulator's ground truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { expectMatchesTruth, simulate } from '../support/verify.ts';

describe('pipeline end to end', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
  });
  afterAll(() => p.close());

  it('stores every reading once and aggregates equal to a recomputation from the ground truth', async () => {
    const summary = await simulate(p, {
      devices: 24,
      rate: 40,
      count: 150,
      batch: 2,
      seed: 2026,
      simStart: Date.UTC(2026, 10, 16, 5, 0), // a Monday morning: lights off, schools opening
      // Re-sent and swapped messages must not change any number.
      faultList: ['duplicates', 'out-of-order'],
    });
    expect(summary).toMatchObject({ readingsSent: expect.any(Number) as number, refused: 0, unacked: 0 });
    const result = await expectMatchesTruth(p, summary);
    expect(result.readings).toBe(24 * 150 * 2);
    console.info(`[e2e] ${result.readings} readings, ${result.windows} aggregate windows match the ground truth`);
    // The writer's latency histograms saw each stored point once per hop (what an operator's dashboard reads).
    const text = await p.registries.find((r) => r.service === 'writer')!.registry.metrics();
    const sample = (name: string, label = '') => Number(text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label))?.split(' ').at(-1));
    const observed = sample('writer_end_to_end_seconds_count');
    expect(observed).toBeGreaterThanOrEqual(result.readings);
    expect(sample('writer_end_to_end_seconds_bucket', 'le="+Inf"')).toBe(observed);
    for (const hop of ['device_to_gateway', 'gateway_to_normalized', 'normalized_to_stored']) expect(sample('writer_hop_seconds_count', `hop="${hop}"`)).toBe(observed);
  });
});
