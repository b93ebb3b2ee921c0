import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionExpiry } from './sessions.ts';

describe('SessionExpiry', () => {
  afterEach(() => vi.useRealTimers());

  it('forgets a persistent session its expiry after the disconnect, unless the device came back', () => {
    vi.useFakeTimers();
    const forgotten: string[] = [];
    const s = new SessionExpiry({ expiryMs: 1000, maxPerDevice: 4 }, (id) => forgotten.push(id));
    s.connected('d', 'd', false);
    s.connected('e', 'e', false);
    s.disconnected('d', 'd');
    s.disconnected('e', 'e');
    vi.advanceTimersByTime(500);
    s.connected('e', 'e', false); // back in time: kept
    vi.advanceTimersByTime(600);
    expect(forgotten).toEqual(['d']);
    expect(s.size).toBe(1);
  });

  it("keeps at most maxPerDevice persistent sessions per device, the oldest going first; clean sessions are not tracked", () => {
    const forgotten: string[] = [];
    const s = new SessionExpiry({ expiryMs: 60_000, maxPerDevice: 2 }, (id) => forgotten.push(id));
    for (const i of [1, 2, 3, 4]) {
      s.connected('d', `d:${i}`, false);
      s.disconnected('d', `d:${i}`);
    }
    s.connected('d', 'd:clean', true);
    expect(forgotten).toEqual(['d:1', 'd:2']);
    expect(s.size).toBe(2);
    s.close();
  });
});
