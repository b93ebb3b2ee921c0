/**
 * Drops exact duplicates (same device and timestamp) seen within a horizon of processing time.
 * Memory is bounded per device: at most `maxPerDevice` timestamps, and always at least the most
 * recent half of that within the horizon (a re-sent reading comes back soon after the original),
 * so a fleet of devices at thousands of readings per second cannot make the table grow without
 * bound.
 *
 * A device's timestamps are kept in two generations: the newest, and the one before. When the
 * newest is full, the older generation is dropped whole and the newest becomes it. Forgetting a
 * timestamp one at a time, the oldest first (the first design), cost a `Map.delete` and an
 * iteration over the map's freed slots per reading: 11 % of the normaliser's CPU with 10-reading
 * messages (on-CPU profile, `bench/perf-summary.ts`), 1.0 µs a reading against 0.3 µs now
 * (200 devices at their bound, measured alone).
 */
interface Generations {
  newest: Map<number, number>;
  older: Map<number, number> | undefined;
  /** When the newest timestamp was remembered. */
  lastAt: number;
}

export class Deduper {
  /** deviceId → its timestamps (ts → when remembered), in two generations. */
  private seen = new Map<string, Generations>();

  private readonly horizonMs: number;
  private readonly generationSize: number;
  /** False for a bound of one: the newest generation alone holds it. */
  private readonly keepsOlder: boolean;
  private readonly now: () => number;

  constructor(horizonMs: number, maxPerDevice = 1024, now: () => number = Date.now) {
    this.horizonMs = horizonMs;
    // Two generations of this size hold at most maxPerDevice.
    this.generationSize = Math.max(1, Math.floor(maxPerDevice / 2));
    this.keepsOlder = maxPerDevice >= 2;
    this.now = now;
  }

  /** True when `deviceId@ts` was remembered within the horizon. */
  has(deviceId: string, ts: number): boolean {
    const g = this.seen.get(deviceId);
    if (!g) return false;
    const at = g.newest.get(ts) ?? g.older?.get(ts);
    return at !== undefined && this.now() - at <= this.horizonMs;
  }

  /**
   * Remembers `deviceId@ts` as forwarded. Called only once the reading is on the bus: a reading
   * remembered before, whose produce then failed, would be dropped as its own duplicate when the
   * batch is retried — lost.
   */
  remember(deviceId: string, ts: number): void {
    const t = this.now();
    const g = this.seen.get(deviceId);
    if (!g) {
      this.seen.set(deviceId, { newest: new Map([[ts, t]]), older: undefined, lastAt: t });
      return;
    }
    if (t - g.lastAt > this.horizonMs) {
      // Everything this device sent is past the horizon.
      g.newest = new Map();
      g.older = undefined;
    } else if (g.newest.size >= this.generationSize) {
      g.older = this.keepsOlder ? g.newest : undefined;
      g.newest = new Map();
    }
    g.newest.set(ts, t);
    g.lastAt = t;
  }

  /** Remembered timestamps over all devices. */
  get size(): number {
    let n = 0;
    for (const g of this.seen.values()) n += g.newest.size + (g.older?.size ?? 0);
    return n;
  }
}

/**
 * The first reading of each timestamp, in order. Readings in time order, as devices send them,
 * are all kept without a lookup; a set of times is built only once one is not newer than all
 * before it.
 */
export function firstOfEachTime<R extends { ts: number }>(readings: R[]): R[] {
  let newest = -Infinity;
  let seen: Set<number> | undefined;
  const kept: R[] = [];
  for (const r of readings) {
    if (r.ts > newest) {
      newest = r.ts;
      seen?.add(r.ts);
    } else {
      seen ??= new Set(kept.map((k) => k.ts));
      if (seen.has(r.ts)) continue;
      seen.add(r.ts);
    }
    kept.push(r);
  }
  return kept;
}
