/**
 * A token bucket per device: `rate` publishes per second sustained, `burst` at once. A publish
 * over the rate is not refused: it reserves the next free token and is told how long to wait, so
 * the gateway can hold its PUBACK (and stop reading the socket) — backpressure, as a real broker
 * applies it — instead of disconnecting a device that is only catching up.
 */
const MAX_KEYS = 100_000;

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(rate: number, burst: number, now: () => number = Date.now) {
    this.rate = rate;
    this.burst = burst;
    this.now = now;
  }

  /** Takes `n` tokens (one by default) for `key`; false, taking none, when the bucket holds fewer. */
  take(key: string, n = 1): boolean {
    const b = this.refill(key);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  /**
   * Reserves one token for `key`: 0 when it is there now, else how many ms until it will be (the
   * token is spent in advance, so publishes waiting together are spaced at the sustained rate).
   */
  reserve(key: string): number {
    const b = this.refill(key);
    b.tokens -= 1;
    return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens / this.rate) * 1000);
  }

  /** Ms until `key` will have a whole token (0 when it has one now); takes nothing. */
  msUntil(key: string): number {
    const b = this.refill(key);
    return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - b.tokens) / this.rate) * 1000));
  }

  /** Takes a token for `key` when it has one (0), else says how many ms until it will (taking none). */
  takeOrWait(key: string): number {
    return this.take(key) ? 0 : this.msUntil(key);
  }

  /** Gives back a reserved token (the publish was refused after all). */
  release(key: string): void {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  private refill(key: string) {
    const t = this.now();
    // Keys can come from outside (addresses): bound the memory; forgetting only refills buckets.
    if (!this.buckets.has(key) && this.buckets.size >= MAX_KEYS) this.buckets.clear();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.buckets.set(key, b);
    return b;
  }
}
