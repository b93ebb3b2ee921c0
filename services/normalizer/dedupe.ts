/**
 * Drops exact duplicates (same device and timestamp) seen within a horizon of processing time.
 * Memory is bounded per device: the most recent `maxPerDevice` timestamps within the horizon
 * are remembered (a re-sent reading comes back soon after the original), so a fleet of devices
 * at thousands of readings per second cannot make the table grow without bound.
 */
export class Deduper {
  /** deviceId → (ts → when seen), in insertion (= processing time) order. */
  private seen = new Map<string, Map<number, number>>();

  private readonly horizonMs: number;
  private readonly maxPerDevice: number;
  private readonly now: () => number;

  constructor(horizonMs: number, maxPerDevice = 1024, now: () => number = Date.now) {
    this.horizonMs = horizonMs;
    this.maxPerDevice = maxPerDevice;
    this.now = now;
  }

  /** True when `deviceId@ts` was remembered within the horizon. */
  has(deviceId: string, ts: number): boolean {
    const at = this.seen.get(deviceId)?.get(ts);
    return at !== undefined && this.now() - at <= this.horizonMs;
  }

  /**
   * Remembers `deviceId@ts` as forwarded. Called only once the reading is on the bus: a reading
   * remembered before, whose produce then failed, would be dropped as its own duplicate when the
   * batch is retried — lost.
   */
  remember(deviceId: string, ts: number): void {
    const t = this.now();
    let recent = this.seen.get(deviceId);
    if (!recent) this.seen.set(deviceId, (recent = new Map<number, number>()));
    recent.delete(ts); // re-insert at the end, keeping time order
    recent.set(ts, t);
    for (const [oldTs, oldAt] of recent) {
      if (recent.size <= this.maxPerDevice && t - oldAt <= this.horizonMs) break;
      recent.delete(oldTs);
    }
  }

  /** Remembered timestamps over all devices. */
  get size(): number {
    let n = 0;
    for (const m of this.seen.values()) n += m.size;
    return n;
  }
}
