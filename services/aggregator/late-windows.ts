/**
 * Late readings are recomputed, not lost. A reading whose device's window has already been
 * closed and written — the missing hours of a meter whose counter already jumped past them, a
 * reading more out of order than the lateness allows — reopens that window: the device's windows
 * from there on are computed again from its raw readings in the store (which the writer has by
 * then: see `waitForWriter`), starting from the carry of the window before, and rewritten over
 * the same points. The chain stops at the first window whose carry comes out as it was, since
 * nothing after it can change, and at the device's windows still open in memory. The store is read
 * a span of windows at a time, so a long chain costs bounded memory.
 */
import type { Bus } from '../../shared/bus/bus.ts';
import { valuesOfKind, type CanonicalReading } from '../../shared/schemas/readings.ts';
import type { Kind } from '../../shared/schemas/topics.ts';
import type { StorePoint, TelemetryStore } from '../../shared/store/store.ts';
import { sleep } from '../../shared/time.ts';
import { aggregateWindow, type Carry } from './aggregate.ts';
import { aggregatePoint, loadCarries } from './carry-store.ts';
import type { FleetRules } from './window-math.ts';
import { WINDOWS, windowStart, type OpenWindow, type ReadingSource, type WindowReading } from './windows.ts';

/** A device with late readings, and the span of windows they reopen. */
export interface Reopened {
  kind: Kind;
  deviceId: string;
  municipality: string;
  attrs: CanonicalReading['attrs'];
  /** Start of the earliest window a late reading fell into. */
  from: number;
  /** Start of the latest one: the chain may stop only after it. */
  lastLate: number;
}

/** Collects the windows to recompute per device: the window of a late reading's time `ts`, or a closing window's start. */
export function reopen(into: Map<string, Reopened>, device: Pick<ReadingSource, 'kind' | 'deviceId' | 'municipality' | 'attrs'>, ts: number): void {
  const start = windowStart(ts, WINDOWS[device.kind].sizeMs);
  const o = into.get(device.deviceId);
  if (!o) into.set(device.deviceId, { kind: device.kind, deviceId: device.deviceId, municipality: device.municipality, attrs: device.attrs, from: start, lastLate: start });
  else {
    o.from = Math.min(o.from, start);
    o.lastLate = Math.max(o.lastLate, start);
  }
}

/** Windows read from the store at a time during a recomputation. */
export const RECOMPUTE_SPAN_WINDOWS = 96;

export interface RecomputeResult {
  /** Windows rewritten. */
  windows: number;
  /** The carry after the last window recomputed, when the chain ran up to `until`. */
  finalCarry: Carry | undefined;
}

/**
 * Recomputes the device's windows from `o.from` up to (not including) windows starting at
 * `until` — where its windows still open in memory begin — and hands each span's points to
 * `write` before reading the next. Pure apart from the store.
 */
export async function recompute(store: TelemetryStore, rules: FleetRules, o: Reopened, until: number, write: (points: StorePoint[]) => Promise<void>): Promise<RecomputeResult> {
  const { sizeMs, measurement } = WINDOWS[o.kind];
  let carry = (await loadCarries(store, measurement, o.from, [o.deviceId])).get(o.deviceId);
  let windows = 0;
  for (let from = o.from; from < until; from += RECOMPUTE_SPAN_WINDOWS * sizeMs) {
    const to = Math.min(until, from + RECOMPUTE_SPAN_WINDOWS * sizeMs);
    const [raw, old] = await Promise.all([store.devicePoints(o.kind, o.deviceId, from, to), store.devicePoints(measurement, o.deviceId, from, to)]);
    const oldCarry = new Map(old.map((p) => [p.ts, p.fields.carry]));
    const byWindow = new Map<number, WindowReading[]>();
    for (const p of raw) {
      // A point the writer is storing at this moment may show some of its fields and not yet the
      // others (InfluxDB 1.x keeps each field as its own series). It lies past the writer's fence,
      // so this worker meets it on the bus later and recomputes its window then: leave it out now.
      const values = valuesOfKind[o.kind].safeParse(p.fields);
      if (!values.success) continue;
      const start = windowStart(p.ts, sizeMs);
      const list = byWindow.get(start) ?? [];
      list.push({ ts: p.ts, values: values.data });
      byWindow.set(start, list);
    }
    const points: StorePoint[] = [];
    let done = false;
    for (const start of [...byWindow.keys()].sort((a, b) => a - b)) {
      const w: OpenWindow = { kind: o.kind, deviceId: o.deviceId, municipality: o.municipality, attrs: o.attrs, start, end: start + sizeMs, readings: byWindow.get(start)!, newestTs: Infinity /* unordered: any later reading is looked up */, firstOffset: 0 };
      const result = aggregateWindow(w, carry, rules);
      const point = aggregatePoint(w, measurement, result.fields, result.carry);
      points.push(point);
      carry = result.carry;
      // Past the last reopened window, a window whose carry is unchanged ends the chain.
      if (start >= o.lastLate && oldCarry.get(start) === point.fields.carry) {
        done = true;
        break;
      }
    }
    await write(points);
    windows += points.length;
    if (done) return { windows, finalCarry: undefined };
  }
  return { windows, finalCarry: carry };
}

/**
 * Waits until the writer's consumer group has committed past `offset` on the partition: every
 * reading up to the late one is then in the store, so a recomputation sees them all. 'stored'
 * then; 'gone' when the partition moved on or the worker is stopping (the next owner replays);
 * 'timeout' after `maxWaitMs` — a writer that is down must not stop all aggregation of the
 * partition, so the caller recomputes from what is stored and says so.
 */
export async function waitForWriter(bus: Bus, o: { writerGroup: string; topic: string; partition: number; offset: number; maxWaitMs: number; stillOwned: () => boolean }): Promise<'stored' | 'gone' | 'timeout'> {
  const t0 = Date.now();
  // The writer usually commits within a few of its batches: poll soon, then less often.
  for (let pause = 20; ; pause = Math.min(pause * 2, 200)) {
    const c = (await bus.committed(o.writerGroup, o.topic)).get(o.partition);
    if (c && Number(c.offset) > o.offset) return 'stored';
    if (!o.stillOwned()) return 'gone';
    if (Date.now() - t0 >= o.maxWaitMs) return 'timeout';
    await sleep(pause);
  }
}
