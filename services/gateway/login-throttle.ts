/**
 * Failed logins back off, per device id and per source address: after its free failures a key
 * must wait 1 s, then 2 s, 4 s … up to `maxBlockMs` before its next attempt is even checked, and
 * at most `concurrent` checks per key run at once. Refused attempts cost no password hash, so a
 * flood of bad passwords cannot queue up in front of good devices' logins. Keys are `id:…` and
 * `ip:…`; an address gets more free failures than a device id, as several devices may share one
 * address (NAT, a LoRaWAN gateway's backhaul).
 */
export class LoginThrottle {
  private failures = new Map<string, { count: number; blockedUntil: number }>();
  private inFlight = new Map<string, number>();

  constructor(
    private readonly o: { freeFailures: number; freeFailuresPerAddress?: number; maxBlockMs: number; concurrent: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an attempt for these keys may be checked now; if so, `done` must be called with its outcome. */
  begin(keys: string[]): { ok: true; done: (outcome: 'success' | 'failure' | 'neutral') => void } | { ok: false; retryInMs: number } {
    const t = this.now();
    for (const k of keys) {
      const f = this.failures.get(k);
      if (f && f.blockedUntil > t) return { ok: false, retryInMs: f.blockedUntil - t };
      if ((this.inFlight.get(k) ?? 0) >= this.o.concurrent) return { ok: false, retryInMs: 0 };
    }
    for (const k of keys) this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
    let finished = false;
    return {
      ok: true,
      done: (outcome) => {
        if (finished) return;
        finished = true;
        for (const k of keys) {
          const n = (this.inFlight.get(k) ?? 1) - 1;
          if (n <= 0) this.inFlight.delete(k);
          else this.inFlight.set(k, n);
          if (outcome === 'success') this.failures.delete(k);
          else if (outcome === 'failure') this.fail(k);
        }
      },
    };
  }

  private fail(key: string): void {
    if (this.failures.size >= 100_000) this.prune();
    const f = this.failures.get(key) ?? { count: 0, blockedUntil: 0 };
    f.count++;
    const free = key.startsWith('ip:') ? (this.o.freeFailuresPerAddress ?? this.o.freeFailures) : this.o.freeFailures;
    if (f.count >= free) f.blockedUntil = this.now() + Math.min(this.o.maxBlockMs, 1000 * 2 ** Math.min(f.count - free, 30));
    this.failures.set(key, f);
  }

  /** Bounded memory: forget keys whose block has run out. */
  private prune(): void {
    const t = this.now();
    for (const [k, f] of this.failures) if (f.blockedUntil <= t) this.failures.delete(k);
  }
}
