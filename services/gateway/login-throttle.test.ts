import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.ts';

describe('LoginThrottle', () => {
  it('lets a few failures through, then backs off doubling per key; a success clears it', () => {
    let now = 0;
    const t = new LoginThrottle({ freeFailures: 3, maxBlockMs: 60_000, concurrent: 2 }, () => now);
    const fail = (keys: string[]) => {
      const a = t.begin(keys);
      if (a.ok) a.done('failure');
      return a.ok;
    };
    expect([fail(['id:a', 'ip:1']), fail(['id:a', 'ip:1'])]).toEqual([true, true]);
    expect(fail(['id:a', 'ip:1'])).toBe(true); // third failure: now blocked for 1 s
    expect(t.begin(['id:a', 'ip:2'])).toEqual({ ok: false, retryInMs: 1000 }); // the device id is blocked from any address
    expect(t.begin(['id:b', 'ip:1'])).toEqual({ ok: false, retryInMs: 1000 }); // the address is blocked for any device id
    expect(t.begin(['id:b', 'ip:2']).ok).toBe(true);
    now = 1000;
    expect(fail(['id:a', 'ip:3'])).toBe(true); // fourth failure of id:a: 2 s
    now = 2500;
    expect(t.begin(['id:a', 'ip:3']).ok).toBe(false);
    now = 3000;
    const ok = t.begin(['id:a', 'ip:3']);
    expect(ok.ok).toBe(true);
    if (ok.ok) ok.done('success');
    expect(t.begin(['id:a', 'ip:9']).ok).toBe(true);
  });

  it('gives an address more free failures than a device id, and does not count unknown devices', () => {
    const t = new LoginThrottle({ freeFailures: 1, freeFailuresPerAddress: 3, maxBlockMs: 60_000, concurrent: 5 });
    for (const id of ['a', 'b']) {
      const x = t.begin([`id:${id}`, 'ip:1']);
      if (x.ok) x.done('failure');
    }
    expect(t.begin(['id:c', 'ip:1']).ok).toBe(true); // two failures from the address: not blocked yet
    const n = t.begin(['id:d', 'ip:2']);
    if (n.ok) n.done('neutral');
    expect(t.begin(['id:d', 'ip:2']).ok).toBe(true);
  });

  it('refuses more concurrent checks per key than allowed, without counting them as failures', () => {
    const t = new LoginThrottle({ freeFailures: 3, maxBlockMs: 60_000, concurrent: 2 });
    const a = t.begin(['ip:1']);
    const b = t.begin(['ip:1']);
    expect(t.begin(['ip:1'])).toEqual({ ok: false, retryInMs: 0 });
    if (a.ok) a.done('neutral');
    expect(t.begin(['ip:1']).ok).toBe(true);
    expect(b.ok).toBe(true);
  });
});
