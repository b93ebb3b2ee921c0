import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { SerialLock } from '../../shared/serial-lock.ts';
import { commitInfo, isIdle, restorePartition } from './partition-state.ts';

const timing = { delayMs: 60_000, latenessMs: 300_000, quietMs: 120_000 };
const reading = (ts: number, deviceId = 'm1'): CanonicalReading => ({ kind: 'energy', deviceId, municipality: 'kalamata', ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'g', attrs: {}, values: { energy_wh: ts / 1000 } });

describe('partition state', () => {
  it('starts a partition never committed at offset 0 without a newest event time', () => {
    const st = restorePartition(undefined, timing, 0);
    expect([st.next, st.replayedUntil, st.windows.newestEventTime]).toEqual([0, 0, -Infinity]);
    expect(commitInfo(st)).toEqual({ offset: '0', metadata: JSON.stringify({ ts: null, hi: 0 }) });
  });

  it("reads a commit written before lateness was per device (its watermark bounds what was written)", () => {
    const st = restorePartition({ offset: '9', metadata: JSON.stringify({ wm: 1234, hi: 12 }) }, timing, 0);
    expect([st.next, st.replayedUntil, st.windows.newestEventTime]).toEqual([9, 12, 1234]);
  });

  it('holds the commit at the oldest open window and round-trips through the commit metadata', () => {
    const st = restorePartition(undefined, timing, 0);
    const t = Date.UTC(2026, 10, 20, 10);
    st.windows.add(reading(t), reading(t), 5);
    st.windows.add(reading(t + 60_000), reading(t + 60_000), 6);
    st.next = 7;
    const c = commitInfo(st);
    expect(c.offset).toBe('5'); // the open window's first record
    const again = restorePartition(c, timing, 0);
    expect([again.next, again.replayedUntil, again.windows.newestEventTime]).toEqual([5, 7, t + 60_000]);
  });

  it('is idle only when caught up, quiet long enough, and nothing else holds the worker', () => {
    const st = restorePartition(undefined, timing, 1000);
    const o = { now: 5000, idleMs: 2000, activeHandlers: 0, storeWaits: 0 };
    expect(isIdle(st, o)).toBe(false); // not caught up yet
    st.caughtUp = true;
    expect(isIdle(st, o)).toBe(true);
    expect(isIdle(st, { ...o, now: 2000 })).toBe(false);
    expect(isIdle(st, { ...o, activeHandlers: 1 })).toBe(false);
    expect(isIdle(st, { ...o, storeWaits: 1 })).toBe(false);
  });

  it('runs a partition’s work one at a time, and a failure does not block what follows', async () => {
    const lock = new SerialLock();
    const order: string[] = [];
    const slow = lock.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('slow');
    });
    const failing = lock.run(() => Promise.reject(new Error('x')));
    const after = lock.run(async () => order.push('after'));
    await slow;
    await expect(failing).rejects.toThrow('x');
    await after;
    expect(order).toEqual(['slow', 'after']);
  });
});
