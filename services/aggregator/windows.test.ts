import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { PartitionWindows, windowStart, type WindowTiming } from './windows.ts';

const T0 = Date.UTC(2026, 10, 16, 8, 0);
const MIN = 60_000;
const energy = (deviceId: string, ts: number, energy_wh: number, receivedAt = ts): CanonicalReading => ({
  kind: 'energy', deviceId, municipality: 'kalamata', ts, tsFromGateway: false, receivedAt, gatewayId: 'g', attrs: {}, values: { energy_wh },
});
/** A canonical reading carries its device's fields itself: it is both the source and the reading. */
const add = (w: PartitionWindows, r: CanonicalReading, offset: number) => w.add(r, r, offset);
const timing = (delayMs: number, latenessMs: number, quietMs = 10 * MIN): WindowTiming => ({ delayMs, latenessMs, quietMs });

describe('PartitionWindows', () => {
  it('closes a window once the watermark passes its end plus the lateness', () => {
    const w = new PartitionWindows(timing(MIN, 2 * MIN));
    add(w, energy('a', T0 + 1 * MIN, 10), 0);
    add(w, energy('a', T0 + 14 * MIN, 20), 1);
    add(w, energy('a', T0 + 17 * MIN, 30), 2); // next window; watermark = 16 min
    expect(w.takeClosed()).toEqual([]);
    add(w, energy('a', T0 + 18 * MIN, 40), 3); // watermark 17 = end (15) + lateness (2)
    const closed = w.takeClosed();
    expect(closed.map((c) => [c.start, c.readings.length])).toEqual([[T0, 2]]);
  });

  it('accepts out-of-order readings within the lateness and refuses them after', () => {
    const w = new PartitionWindows(timing(0, 5 * MIN));
    add(w, energy('a', T0 + 16 * MIN, 1), 0);
    expect(add(w, energy('a', T0 + 10 * MIN, 1), 1)).toBe('accepted'); // 6 min behind, window still open
    add(w, energy('a', T0 + 21 * MIN, 1), 2);
    expect(w.takeClosed()).toHaveLength(1);
    expect(add(w, energy('a', T0 + 12 * MIN, 1), 3)).toBe('late');
  });

  it('holds the commit at the first offset of the oldest open window', () => {
    const w = new PartitionWindows(timing(0, 0));
    add(w, energy('a', T0 + 1 * MIN, 1), 10);
    add(w, energy('b', T0 + 2 * MIN, 1), 11);
    add(w, energy('a', T0 + 3 * MIN, 1), 12);
    expect(w.commitOffset(13)).toBe(10);
    add(w, energy('a', T0 + 16 * MIN, 1), 13); // closes the first window of a and b
    w.takeClosed();
    expect(w.commitOffset(14)).toBe(13);
  });

  it("judges each device by its own progress: a backlog uploaded in order is never late, however far behind the others' clocks", () => {
    const w = new PartitionWindows(timing(MIN, 5 * MIN));
    const now = T0 + 3 * 24 * 60 * MIN;
    add(w, energy('live', now, 1), 0); // another device, live, three days ahead
    for (let i = 0; i <= 30; i++) expect(add(w, energy('meter', T0 + i * MIN, i, now + i), 1 + i)).toBe('accepted');
    // The meter's own progress (30 min) closed its first window (end 15 + lateness 5 + delay 1 ≤ 30), not the second.
    expect(w.takeClosed().map((c) => [c.deviceId, c.start, c.readings.length])).toEqual([['meter', T0, 15]]);
    expect(add(w, energy('meter', T0 + 3 * MIN, 3, now + 40), 40)).toBe('late'); // its own closed window
  });

  it("closes a quiet device's windows once the partition's clock has passed them, and keeps a device sending unclosed", () => {
    const w = new PartitionWindows(timing(MIN, 5 * MIN, 2 * MIN));
    const now = T0 + 24 * 60 * MIN;
    add(w, energy('meter', T0 + MIN, 1, now), 0); // a backlog reading, received now
    add(w, energy('live', now, 1), 1);
    expect(w.takeClosed()).toEqual([]); // the meter was heard from just now
    w.advanceClock(now + 2 * MIN); // two minutes of silence from it
    expect(w.takeClosed().map((c) => c.deviceId)).toEqual(['meter']); // the live device's window is not past
    expect(add(w, energy('meter', T0 + 2 * MIN, 2, now + 3 * MIN), 2)).toBe('late'); // it resumes in the window closed meanwhile
    expect(add(w, energy('meter', T0 + 16 * MIN, 3, now + 3 * MIN), 3)).toBe('accepted'); // and goes on in order
  });

  it('marks the windows an earlier owner may have written (starting by the restored newest event time) to be computed from the store', () => {
    const w = new PartitionWindows(timing(0, 0), T0 + 20 * MIN);
    add(w, energy('a', T0 + 5 * MIN, 1), 0);
    add(w, energy('a', T0 + 21 * MIN, 1), 1);
    add(w, energy('a', T0 + 31 * MIN, 1), 2);
    expect(w.takeClosed().map((c) => [c.start, c.fromStore ?? false])).toEqual([[T0, true], [T0 + 15 * MIN, true]]);
    expect(w.newestEventTime).toBe(T0 + 31 * MIN);
    expect(w.openFrom('a')).toBe(T0 + 30 * MIN);
    expect(w.closedUntil('a')).toBe(T0 + 30 * MIN);
  });

  it("lets a window still in memory take a reading its device's watermark has since passed (it is not written yet)", () => {
    const w = new PartitionWindows(timing(0, 0, 60 * MIN));
    add(w, energy('a', T0 + MIN, 1), 0);
    add(w, energy('a', T0 + 20 * MIN, 2), 1); // the watermark passes the first window
    expect(add(w, energy('a', T0 + 2 * MIN, 3), 2)).toBe('accepted');
    expect(add(w, energy('b', T0 + 30 * MIN, 1), 3)).toBe('accepted');
    expect(w.takeClosed().map((c) => [c.deviceId, c.start, c.readings.length])).toEqual([['a', T0, 2]]);
    expect(add(w, energy('a', T0 + 3 * MIN, 4), 4)).toBe('late'); // now written
  });

  it("caps a device's watermark at the gateway's receive time: a clock running ahead closes nothing early", () => {
    const w = new PartitionWindows(timing(0, 0));
    add(w, energy('a', T0 + MIN, 1), 0);
    add(w, energy('a', T0 + 60 * MIN, 2, T0 + 2 * MIN), 1); // claims an hour later than it was received
    expect(w.takeClosed()).toEqual([]);
  });

  it('counts a reading replayed twice (same device and time) once', () => {
    const w = new PartitionWindows(timing(0, 0));
    add(w, energy('a', T0 + MIN, 10), 0);
    add(w, energy('a', T0 + MIN, 10), 1); // an upstream replay after a crash
    add(w, energy('a', T0 + 16 * MIN, 20), 2);
    expect(w.takeClosed()[0]?.readings).toHaveLength(1);
  });

  it('holds each timestamp of a window once, in the order first seen, whatever the order and repeats of the readings', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 120 }), (secondsIn) => {
        const w = new PartitionWindows(timing(0, 60 * MIN));
        // Seconds within one 15-minute window: in order, out of order and repeated.
        secondsIn.forEach((s, offset) => add(w, energy('a', T0 + s * 1000, s), offset));
        add(w, energy('a', T0 + 120 * MIN, 0), secondsIn.length); // closes it
        const held = w.takeClosed().find((c) => c.start === T0)?.readings.map((r) => r.ts) ?? [];
        expect(held).toEqual([...new Set(secondsIn)].map((s) => T0 + s * 1000));
      }),
    );
  });

  it('aligns windows to the epoch', () => {
    expect(windowStart(T0 + 7 * MIN + 3, 15 * MIN)).toBe(T0);
  });
});
