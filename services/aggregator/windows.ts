/**
 * Event-time tumbling windows for one partition, pure (no I/O).
 *
 * Lateness is each device's own affair. A device's watermark is the newest event time it has sent
 * (each capped at the gateway's receive time, so its clock cannot run ahead of the gateway's) less
 * `delayMs`; its window [start, end) closes once that watermark reaches end + `latenessMs`. A meter
 * uploading days of buffered readings in order is therefore never late, whatever the other
 * devices of its partition are doing. A device that falls quiet — nothing received from it for
 * `quietMs` by the partition's clock (the gateway's receive times, or the wall clock when the
 * partition is idle) — has its windows closed once that clock, less the delay, has passed them by
 * the lateness: a meter that stops, or pauses its upload, does not hold the commit back forever.
 * A reading for a window of its device that has closed is late (recomputed from the store).
 *
 * The partition's commit position is held at the first offset of its oldest open window, so a
 * restart replays exactly the readings of the windows still open. What an earlier owner of the
 * partition wrote is bounded by the newest event time it had seen, kept in the commit: a window
 * starting at or before that bound may already have been written with readings from before the
 * commit, which this process never sees, so it is marked `fromStore` and computed from the stored
 * readings when it closes.
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

/**
 * What a window keeps of each reading: its time and values. The device is the window's, so a
 * reading is held as its message brought it (no copy with the device's fields): an open window
 * holds every reading until it closes, and each copy was heap for the collector to mark.
 */
export type WindowReading = Pick<CanonicalReading, 'ts' | 'values'>;

/** The device a reading comes from: its normalised message (or a canonical reading, which carries the same fields). */
export type ReadingSource = Pick<CanonicalReading, 'kind' | 'deviceId' | 'municipality' | 'receivedAt' | 'attrs'>;

export interface OpenWindow {
  kind: Kind;
  deviceId: string;
  municipality: string;
  attrs: CanonicalReading['attrs'];
  start: number;
  end: number;
  readings: WindowReading[];
  /** No reading in `readings` is newer than this: a reading after it is new without a lookup. */
  newestTs: number;
  /**
   * Every timestamp in `readings`, built the first time a reading is not newer than `newestTs` (a
   * replay, or readings out of order): a duplicate (same device and time) counts once. Readings in
   * time order, the usual case, never need it; a lookup per reading was 14 % of the aggregator's
   * CPU with 10-reading messages (on-CPU profile, `bench/perf-summary.ts`).
   */
  seen?: Set<number>;
  /** Offset of the first record that contributed: the commit may not pass it while open. */
  firstOffset: number;
  /** An earlier owner of the partition may have written it with readings not replayed: computed from the store. */
  fromStore?: boolean;
}

export interface WindowTiming {
  delayMs: number;
  latenessMs: number;
  /** A device silent this long (by the partition's clock) has its past windows closed. */
  quietMs: number;
}

/** One device's progress through event time, as this process has seen it. */
interface DeviceProgress {
  /** Newest event time sent (capped at the gateway's receive time), less the delay. */
  watermark: number;
  /** The gateway's receive time of the newest reading. */
  lastSeen: number;
  /** End of the newest window closed: a reading for a window ending at or before it is late. */
  closedUntil: number;
}

export const windowStart = (ts: number, sizeMs: number) => Math.floor(ts / sizeMs) * sizeMs;

export class PartitionWindows {
  private open = new Map<string, OpenWindow>();
  private devices = new Map<string, DeviceProgress>();
  /** The partition's clock: the newest receive time, or the wall clock while the partition is idle. */
  private clock = -Infinity;
  private newest: number;
  private readonly timing: WindowTiming;
  /** Windows starting at or before this may have been written by an earlier owner. */
  private readonly writtenBefore: number;

  /** `newestEventTime`: restored from the last commit's metadata; -Infinity on a fresh partition. */
  constructor(timing: WindowTiming, newestEventTime = -Infinity) {
    this.timing = timing;
    this.newest = newestEventTime;
    this.writtenBefore = newestEventTime;
  }

  /** The newest event time of any reading seen (or restored): what the commit keeps. */
  get newestEventTime(): number {
    return this.newest;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Adds a reading of `source`; 'late' when its device's window has closed (or its watermark passed it before it opened). */
  add(source: ReadingSource, r: WindowReading, offset: number): 'accepted' | 'late' {
    const { sizeMs } = WINDOWS[source.kind];
    const start = windowStart(r.ts, sizeMs);
    const end = start + sizeMs;
    let d = this.devices.get(source.deviceId);
    if (!d) this.devices.set(source.deviceId, (d = { watermark: -Infinity, lastSeen: -Infinity, closedUntil: -Infinity }));
    d.lastSeen = Math.max(d.lastSeen, source.receivedAt);
    this.clock = Math.max(this.clock, source.receivedAt);
    const key = `${source.deviceId}|${source.kind}|${start}`;
    let w = this.open.get(key);
    // A window still in memory takes the reading even if the device's watermark has passed it
    // since (within this batch): it has not been written yet.
    if (!w && (end <= d.closedUntil || end + this.timing.latenessMs <= d.watermark)) return 'late';
    if (!w) {
      w = { kind: source.kind, deviceId: source.deviceId, municipality: source.municipality, attrs: source.attrs, start, end, readings: [], newestTs: -Infinity, firstOffset: offset };
      if (start <= this.writtenBefore) w.fromStore = true;
      this.open.set(key, w);
    }
    if (r.ts > w.newestTs) {
      w.newestTs = r.ts;
      w.seen?.add(r.ts);
      w.readings.push(r);
    } else {
      const seen = (w.seen ??= new Set(w.readings.map((x) => x.ts)));
      if (!seen.has(r.ts)) {
        seen.add(r.ts);
        w.readings.push(r);
      }
    }
    // The gateway's clock bounds the watermark: a device whose clock runs ahead cannot close its
    // windows early (its reading still counts, at the time it claims).
    d.watermark = Math.max(d.watermark, Math.min(r.ts, source.receivedAt) - this.timing.delayMs);
    this.newest = Math.max(this.newest, r.ts);
    return 'accepted';
  }

  /** Moves the partition's clock forward (never back): the wall clock, when the partition is idle. */
  advanceClock(to: number): void {
    if (to > this.clock) this.clock = to;
  }

  /** Removes and returns the windows that have closed, oldest first (then by device). */
  takeClosed(): OpenWindow[] {
    const closed: OpenWindow[] = [];
    for (const [key, w] of this.open) {
      const d = this.devices.get(w.deviceId)!;
      if (!this.isClosed(w, d)) continue;
      this.open.delete(key);
      d.closedUntil = Math.max(d.closedUntil, w.end);
      closed.push(w);
    }
    return closed.sort((a, b) => a.end - b.end || a.deviceId.localeCompare(b.deviceId));
  }

  /**
   * Where the device's windows still in memory begin (its closed ones end before): a
   * recomputation from the store stops there. Undefined when none is open.
   */
  openFrom(deviceId: string): number | undefined {
    let from: number | undefined;
    for (const w of this.open.values()) if (w.deviceId === deviceId && (from === undefined || w.start < from)) from = w.start;
    return from;
  }

  /** End of the device's newest closed window (-Infinity when none has closed). */
  closedUntil(deviceId: string): number {
    return this.devices.get(deviceId)?.closedUntil ?? -Infinity;
  }

  /** Where a restart must resume: the oldest open window's first record, else `next`. */
  commitOffset(next: number): number {
    let min = next;
    for (const w of this.open.values()) min = Math.min(min, w.firstOffset);
    return min;
  }

  private isClosed(w: OpenWindow, d: DeviceProgress): boolean {
    const { delayMs, latenessMs, quietMs } = this.timing;
    if (w.end + latenessMs <= d.watermark) return true;
    // A quiet device: its windows the partition's clock has passed close without its progress.
    return this.clock - delayMs >= w.end + latenessMs && this.clock - d.lastSeen >= quietMs;
  }
}
