/**
 * Event-time tumbling windows for one Kafka partition, pure (no I/O).
 *
 * The watermark is the largest event time seen — each capped at the gateway's receive time, so no
 * device clock can push it ahead of the gateway's — minus `delayMs`, never moving back. A window
 * [start, end) closes once the watermark reaches end + `latenessMs`; a reading for a window that
 * has closed is late. The partition's commit position is held at the first offset of its oldest
 * open window, so a restart replays exactly the readings of the windows still open.
 */
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { VOCABULARY, type AggregateMeasurement } from '../../shared/schemas/kinds.ts';
import type { Kind } from '../../shared/schemas/topics.ts';

export interface WindowSpec {
  sizeMs: number;
  measurement: AggregateMeasurement;
}

/** Each kind's window, from the domain vocabulary. */
export const WINDOWS = Object.fromEntries(Object.entries(VOCABULARY).map(([k, v]) => [k, { sizeMs: v.windowMs, measurement: v.aggregate }])) as Record<Kind, WindowSpec>;

export interface OpenWindow {
  kind: Kind;
  deviceId: string;
  municipality: string;
  attrs: CanonicalReading['attrs'];
  start: number;
  end: number;
  readings: CanonicalReading[];
  /** Timestamps already in the window: a replayed duplicate (same device and time) counts once. */
  seen: Set<number>;
  /** Offset of the first record that contributed: the commit may not pass it while open. */
  firstOffset: number;
}

export interface WindowTiming {
  delayMs: number;
  latenessMs: number;
}

export const windowStart = (ts: number, sizeMs: number) => Math.floor(ts / sizeMs) * sizeMs;

export class PartitionWindows {
  private open = new Map<string, OpenWindow>();
  private wm: number;

  private readonly timing: WindowTiming;

  /** `watermark`: restored from the last commit's metadata; -Infinity on a fresh partition. */
  constructor(timing: WindowTiming, watermark = -Infinity) {
    this.timing = timing;
    this.wm = watermark;
  }

  get watermark(): number {
    return this.wm;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Adds a reading; 'late' when its window has already closed. */
  add(r: CanonicalReading, offset: number): 'accepted' | 'late' {
    const spec = WINDOWS[r.kind];
    const start = windowStart(r.ts, spec.sizeMs);
    const end = start + spec.sizeMs;
    if (this.isClosed(end)) return 'late';
    const key = `${r.deviceId}|${r.kind}|${start}`;
    let w = this.open.get(key);
    if (!w) {
      w = { kind: r.kind, deviceId: r.deviceId, municipality: r.municipality, attrs: r.attrs, start, end, readings: [], seen: new Set(), firstOffset: offset };
      this.open.set(key, w);
    }
    if (!w.seen.has(r.ts)) {
      w.seen.add(r.ts);
      w.readings.push(r);
    }
    // The gateway's clock bounds the watermark: a device whose clock runs ahead cannot close other
    // devices' windows early (its own reading still counts, at the time it claims).
    this.advance(Math.min(r.ts, r.receivedAt) - this.timing.delayMs);
    return 'accepted';
  }

  /** Moves the watermark forward (never back). */
  advance(to: number): void {
    if (to > this.wm) this.wm = to;
  }

  /** Removes and returns the windows the watermark has closed, oldest first (then by device). */
  takeClosed(): OpenWindow[] {
    const closed = [...this.open.entries()].filter(([, w]) => this.isClosed(w.end));
    for (const [key] of closed) this.open.delete(key);
    return closed.map(([, w]) => w).sort((a, b) => a.end - b.end || a.deviceId.localeCompare(b.deviceId));
  }

  /** Where a restart must resume: the oldest open window's first record, else `next`. */
  commitOffset(next: number): number {
    let min = next;
    for (const w of this.open.values()) min = Math.min(min, w.firstOffset);
    return min;
  }

  private isClosed(end: number): boolean {
    return this.wm >= end + this.timing.latenessMs;
  }
}
