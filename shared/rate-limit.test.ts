import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    const taken = Array.from({ length: 7 }, () => limiter.take('a'));
    expect(taken).toEqual([true, true, true, true, true, false, false]);
    expect(limiter.take('b')).toBe(true); // another device has its own bucket
    now += 100; // 10/s → one token per 100 ms
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    now += 10_000; // refills only up to the burst
    expect(Array.from({ length: 6 }, () => limiter.take('a')).filter(Boolean)).toHaveLength(5);
  });
});

describe('RateLimiter.reserve (backpressure)', () => {
  it('answers 0 within the burst, then spaces further publishes at the sustained rate', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 2, () => now);
    expect([limiter.reserve('a'), limiter.reserve('a'), limiter.reserve('a'), limiter.reserve('a')]).toEqual([0, 0, 100, 200]);
    expect(limiter.reserve('b')).toBe(0);
    now = 200; // the two reserved tokens are now due
    expect(limiter.reserve('a')).toBe(100);
    limiter.release('a');
    expect(limiter.reserve('a')).toBe(100);
  });
});
