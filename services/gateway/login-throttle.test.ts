import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.ts';
import { loginKeys } from './login.ts';

describe('LoginThrottle', () => {
  it('lets a few failures through, then backs off doubling per key; a success clears it', async () => {
    let now = 0;
    const t = new LoginThrottle({ freeFailures: 3, maxBlockMs: 60_000, concurrent: 2 }, () => now);
    const fail = async (keys: string[]) => {
      const a = await t.begin(keys);
      if (a.ok) a.done('failure');
      return a.ok;
    };
    expect([await fail(['id:a', 'ip:1']), await fail(['id:a', 'ip:1']), await fail(['id:a', 'ip:1'])]).toEqual([true, true, true]);
    expect(await t.begin(['id:a', 'ip:2'])).toEqual({ ok: false, retryInMs: 1000 }); // a blocked key holds every attempt that carries it
    expect(await t.begin(['id:b', 'ip:1'])).toEqual({ ok: false, retryInMs: 1000 }); // the same for the other key
    const other = await t.begin(['id:b', 'ip:2']);
    expect(other.ok).toBe(true);
    if (other.ok) other.done('neutral');
    now = 1000;
    expect(await fail(['id:a', 'ip:3'])).toBe(true); // fourth failure of key a: 2 s
    now = 2500;
    expect((await t.begin(['id:a', 'ip:3'])).ok).toBe(false);
    now = 3000;
    const ok = await t.begin(['id:a', 'ip:3']);
    expect(ok.ok).toBe(true);
    if (ok.ok) ok.done('success');
    const after = await t.begin(['id:a', 'ip:9']);
    expect(after.ok).toBe(true);
  });

  it("keys a login on its address, never on the device id alone: guesses from one address do not delay the genuine device at another", async () => {
    let now = 0;
    const t = new LoginThrottle({ freeFailures: 3, freeFailuresPerAddress: 10, maxBlockMs: 60_000, concurrent: 2 }, () => now);
    for (let i = 0; i < 200; i++, now += 500) {
      const a = await t.begin(loginKeys('kal-1', '10.0.0.66'));
      if (a.ok) a.done('failure');
    }
    const blocked = await t.begin(loginKeys('kal-1', '10.0.0.66'));
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.retryInMs).toBeGreaterThan(10_000); // the guesser's cost keeps doubling
    const genuine = await t.begin(loginKeys('kal-1', '10.0.0.7'));
    expect(genuine.ok).toBe(true);
  });

  it('gives an address more free failures than a device id, and does not count neutral outcomes', async () => {
    const t = new LoginThrottle({ freeFailures: 1, freeFailuresPerAddress: 3, maxBlockMs: 60_000, concurrent: 5 });
    for (const id of ['a', 'b']) {
      const x = await t.begin([`id:${id}`, 'ip:1']);
      if (x.ok) x.done('failure');
    }
    expect((await t.begin(['id:c', 'ip:1'])).ok).toBe(true); // two failures from the address: not blocked yet
    const n = await t.begin(['id:d', 'ip:2']);
    if (n.ok) n.done('neutral');
    expect((await t.begin(['id:d', 'ip:2'])).ok).toBe(true);
  });

  it('queues attempts beyond the concurrent checks of a key (a fleet behind one address), refuses beyond the queue', async () => {
    const t = new LoginThrottle({ freeFailures: 3, maxBlockMs: 60_000, concurrent: 1, queue: 2 });
    const first = await t.begin(['ip:1']);
    const order: string[] = [];
    const second = t.begin(['ip:1']).then((a) => (order.push('second'), a));
    const third = t.begin(['ip:1']).then((a) => (order.push('third'), a));
    expect(await t.begin(['ip:1'])).toEqual({ ok: false, retryInMs: 0 }); // the queue is full
    if (first.ok) first.done('success');
    const s = await second;
    if (s.ok) s.done('success');
    const th = await third;
    expect([s.ok, th.ok]).toEqual([true, true]);
    expect(order).toEqual(['second', 'third']);
  });

  it('refuses queued attempts once the failures ahead of them set a block', async () => {
    const t = new LoginThrottle({ freeFailures: 1, maxBlockMs: 60_000, concurrent: 1 });
    const first = await t.begin(['id:x']);
    const queued = [t.begin(['id:x']), t.begin(['id:x']), t.begin(['id:x'])];
    if (first.ok) first.done('failure');
    // Every one of them is answered (none left waiting for a turn that never comes).
    expect((await Promise.all(queued)).map((a) => a.ok)).toEqual([false, false, false]);
  });
});
