import { describe, expect, it } from 'vitest';
import { counterValue, histogramQuantile } from './metrics-text.ts';

const text = `# HELP x_seconds h
x_seconds_bucket{le="0.1",service="w"} 50
x_seconds_bucket{le="0.5",service="w"} 90
x_seconds_bucket{le="1",service="w"} 100
x_seconds_bucket{le="+Inf",service="w"} 100
h_seconds_bucket{le="1",hop="a",service="w"} 10
h_seconds_bucket{le="2",hop="a",service="w"} 20
h_seconds_bucket{le="+Inf",hop="a",service="w"} 20
h_seconds_bucket{le="1",hop="b",service="w"} 0
h_seconds_bucket{le="2",hop="b",service="w"} 20
h_seconds_bucket{le="+Inf",hop="b",service="w"} 20
c_total{kind="a",service="w"} 3
c_total{kind="b",service="w"} 4`;

describe('histogramQuantile', () => {
  it('interpolates inside the bucket holding the rank', () => {
    expect(histogramQuantile(text, 'x_seconds', 0.5)).toBeCloseTo(0.1, 9);
    expect(histogramQuantile(text, 'x_seconds', 0.7)).toBeCloseTo(0.3, 9);
    expect(histogramQuantile(text, 'x_seconds', 0.99)).toBeCloseTo(0.95, 9);
  });
  it('selects one label of a labelled histogram', () => {
    expect(histogramQuantile(text, 'h_seconds', 0.5, 'hop="a"')).toBeCloseTo(1, 9);
    expect(histogramQuantile(text, 'h_seconds', 0.5, 'hop="b"')).toBeCloseTo(1.5, 9);
  });
  it('sums a counter over its labels', () => {
    expect(counterValue(text, 'c_total')).toBe(7);
  });
});
