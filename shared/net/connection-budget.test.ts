import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionBudget, type BudgetEvent } from './connection-budget.ts';

class FakeSocket extends EventEmitter {
  destroyed = false;
  readonly remoteAddress: string;
  constructor(remoteAddress: string) {
    super();
    this.remoteAddress = remoteAddress;
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

describe('ConnectionBudget', () => {
  afterEach(() => vi.useRealTimers());

  it('caps pending connections per address, and at the total cap closes the oldest pending one to make room', () => {
    const events: BudgetEvent[] = [];
    const b = new ConnectionBudget({ maxTotal: 4, maxPendingPerAddress: 2, pendingTimeoutMs: 0 }, (e) => events.push(e));
    const idle = [new FakeSocket('6.6.6.6'), new FakeSocket('6.6.6.6'), new FakeSocket('6.6.6.6')];
    expect(idle.map((s) => b.admit(s))).toEqual([true, true, false]);
    const device = new FakeSocket('10.0.0.1');
    b.admit(device);
    b.settle(device);
    const d2 = new FakeSocket('10.0.0.2');
    b.admit(d2);
    b.settle(d2);
    // Full (2 idle + 2 logged in): a newcomer closes the oldest idle socket, never a logged-in one.
    const d3 = new FakeSocket('10.0.0.3');
    expect(b.admit(d3)).toBe(true);
    expect([idle[0]!.destroyed, idle[1]!.destroyed, device.destroyed, d2.destroyed]).toEqual([true, false, false, false]);
    b.settle(d3);
    const d4 = new FakeSocket('10.0.0.4');
    expect(b.admit(d4)).toBe(true);
    expect(idle[1]!.destroyed).toBe(true);
    b.settle(d4);
    // Every connection logged in: now a newcomer is refused.
    expect(b.admit(new FakeSocket('10.0.0.5'))).toBe(false);
    expect(events.map((e) => e.event)).toEqual(['refused', 'evicted', 'evicted', 'refused']);
    expect(b.total).toBe(4);
  });

  it('closes a connection still pending at its deadline', () => {
    vi.useFakeTimers();
    const b = new ConnectionBudget({ maxTotal: 10, maxPendingPerAddress: 10, pendingTimeoutMs: 1000 });
    const slow = new FakeSocket('6.6.6.6');
    const quick = new FakeSocket('10.0.0.1');
    b.admit(slow);
    b.admit(quick);
    vi.advanceTimersByTime(500);
    b.settle(quick);
    vi.advanceTimersByTime(600);
    expect([slow.destroyed, quick.destroyed]).toEqual([true, false]);
    expect(b.pendingCount).toBe(0);
  });

  it('for any sequence of opens, logins and closes never holds more than its cap, nor more pending per address', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('open', 'settle', 'close', 'unsettle'), fc.nat(7), fc.nat(40)), { maxLength: 200 }), (ops) => {
        const b = new ConnectionBudget({ maxTotal: 10, maxPendingPerAddress: 3, pendingTimeoutMs: 0 });
        const sockets: FakeSocket[] = [];
        for (const [op, addr, i] of ops) {
          const s = sockets[i % Math.max(1, sockets.length)];
          if (op === 'open') {
            const n = new FakeSocket(`10.0.0.${addr}`);
            sockets.push(n);
            b.admit(n);
          } else if (s && op === 'settle') b.settle(s);
          else if (s && op === 'unsettle') b.unsettle(s);
          else s?.destroy();
          const open = sockets.filter((x) => !x.destroyed);
          expect(open.length).toBe(b.total);
          expect(b.total).toBeLessThanOrEqual(10);
        }
      }),
    );
  });
});
