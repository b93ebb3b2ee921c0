/**
 * Drops exact duplicates (same device and timestamp) seen within a horizon of processing time.
 * Memory is bounded by the horizon: entries older than it are swept as time passes.
 */
export class Deduper {
  private seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly horizonMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `deviceId@ts` was already seen within the horizon; records it otherwise. */
  isDuplicate(deviceId: string, ts: number): boolean {
    const t = this.now();
    if (t - this.lastSweep > this.horizonMs / 4) this.sweep(t);
    const key = `${deviceId}@${ts}`;
    const at = this.seen.get(key);
    if (at !== undefined && t - at <= this.horizonMs) return true;
    this.seen.delete(key); // re-insert at the end, keeping the map in time order
    this.seen.set(key, t);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(t: number) {
    this.lastSweep = t;
    // Insertion order is time order, so the sweep stops at the first entry still inside the horizon.
    for (const [key, at] of this.seen) {
      if (t - at <= this.horizonMs) break;
      this.seen.delete(key);
    }
  }
}
