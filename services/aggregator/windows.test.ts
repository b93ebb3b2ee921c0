import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../shared/schemas/readings.ts';
import { PartitionWindows, windowStart } from './windows.ts';

const T0 = Date.UTC(2026, 10, 16, 8, 0);
const MIN = 60_000;
const energy = (deviceId: string, ts: number, energy_wh: number): CanonicalReading => ({
  kind: 'energy', deviceId, municipality: 'kalamata', ts, tsFromGateway: false, receivedAt: ts, gatewayId: 'g', attrs: {}, values: { energy_wh },
});

describe('PartitionWindows', () => {
  it('closes a window once the watermark passes its end plus the lateness', () => {
    const w = new PartitionWindows({ delayMs: MIN, latenessMs: 2 * MIN });
    w.add(energy('a', T0 + 1 * MIN, 10), 0);
    w.add(energy('a', T0 + 14 * MIN, 20), 1);
    w.add(energy('a', T0 + 17 * MIN, 30), 2); // next window; watermark = 16 min
    expect(w.takeClosed()).toEqual([]);
    w.add(energy('a', T0 + 18 * MIN, 40), 3); // watermark 17 = end (15) + lateness (2)
    const closed = w.takeClosed();
    expect(closed.map((c) => [c.start, c.readings.length])).toEqual([[T0, 2]]);
  });

  it('accepts out-of-order readings within the lateness and refuses them after', () => {
    const w = new PartitionWindows({ delayMs: 0, latenessMs: 5 * MIN });
    w.add(energy('a', T0 + 16 * MIN, 1), 0);
    expect(w.add(energy('a', T0 + 10 * MIN, 1), 1)).toBe('accepted'); // 6 min behind, window still open
    w.add(energy('a', T0 + 21 * MIN, 1), 2);
    expect(w.takeClosed()).toHaveLength(1);
    expect(w.add(energy('a', T0 + 12 * MIN, 1), 3)).toBe('late');
  });

  it('holds the commit at the first offset of the oldest open window', () => {
    const w = new PartitionWindows({ delayMs: 0, latenessMs: 0 });
    w.add(energy('a', T0 + 1 * MIN, 1), 10);
    w.add(energy('b', T0 + 2 * MIN, 1), 11);
    w.add(energy('a', T0 + 3 * MIN, 1), 12);
    expect(w.commitOffset(13)).toBe(10);
    w.add(energy('a', T0 + 16 * MIN, 1), 13); // closes the first window of a and b
    w.takeClosed();
    expect(w.commitOffset(14)).toBe(13);
  });

  it('restores a watermark so replayed readings of closed windows are recognised', () => {
    const w = new PartitionWindows({ delayMs: 0, latenessMs: 0 }, T0 + 20 * MIN);
    expect(w.add(energy('a', T0 + 5 * MIN, 1), 0)).toBe('late');
    expect(w.add(energy('a', T0 + 21 * MIN, 1), 1)).toBe('accepted');
  });

  it('counts a reading replayed twice (same device and time) once', () => {
    const w = new PartitionWindows({ delayMs: 0, latenessMs: 0 });
    w.add(energy('a', T0 + MIN, 10), 0);
    w.add(energy('a', T0 + MIN, 10), 1); // an upstream replay after a crash
    w.add(energy('a', T0 + 16 * MIN, 20), 2);
    expect(w.takeClosed()[0]?.readings).toHaveLength(1);
  });

  it('aligns windows to the epoch', () => {
    expect(windowStart(T0 + 7 * MIN + 3, 15 * MIN)).toBe(T0);
  });
});
