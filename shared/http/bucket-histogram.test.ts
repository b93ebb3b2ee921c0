import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from './bucket-histogram.ts';

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2.5, 10];

describe('BucketHistogram', () => {
  it("reads as prom-client's histogram for any observations, with and without a label", async () => {
    const value = fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...buckets), fc.constant(0), fc.double({ min: -5, max: 100, noNaN: true }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), value), { maxLength: 60 }), fc.array(value, { maxLength: 30 }), async (labelled, plain) => {
        const theirs = new Registry();
        const ours = new Registry();
        // As the services' registries have (createMetricsRegistry): labels follow it in the same order.
        for (const r of [theirs, ours]) r.setDefaultLabels({ service: 'writer' });
        const h1 = new Histogram({ name: 'hop_seconds', help: 'h', labelNames: ['hop'], buckets, registers: [theirs] });
        const h2 = new Histogram({ name: 'e2e_seconds', help: 'e', buckets, registers: [theirs] });
        const b1 = new BucketHistogram({ name: 'hop_seconds', help: 'h', labelName: 'hop', buckets, registers: [ours] });
        const b2 = new BucketHistogram({ name: 'e2e_seconds', help: 'e', buckets, registers: [ours] });
        for (const [hop, v] of labelled) {
          h1.labels(hop).observe(v);
          b1.of(hop).observe(v);
        }
        for (const v of plain) {
          h2.observe(v);
          b2.observe(v);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const b = new BucketHistogram({ name: 'x', help: 'x', buckets, registers: [] });
    expect(() => b.observe(Number.NaN)).toThrow(TypeError);
    expect(() => b.of().observe(Infinity)).toThrow(TypeError);
  });
});
