/**
 * Failed logins back off, per device id and per source address: after its free failures a key
 * must wait 1 s, then 2 s, 4 s … up to `maxBlockMs` before its next attempt is even checked.
 * Password checks run at most `concurrent` at a time per key; further attempts wait their turn in
 * a short queue (`queue` per key) and are refused beyond it. A refused attempt costs no password
 * hash, so a flood of bad passwords cannot queue up in front of good devices' logins, while a
 * fleet reconnecting at once from one address (NAT, a LoRaWAN gateway's backhaul) is only spread
 * out, not turned away. The login gives the keys (`ip:…`, the address; `pair:…`, address and
 * device id: see login.ts); an `ip:` key gets more free failures, as many devices may share it.
 */
export interface ThrottleOptions {
  freeFailures: number;
  freeFailuresPerAddress?: number;
  maxBlockMs: number;
  concurrent: number;
  /** Attempts that may wait per key; more are refused at once. */
  queue?: number;
}

export type Outcome = 'success' | 'failure' | 'neutral';
export type Admission = { ok: true; done: (outcome: Outcome) => void } | { ok: false; retryInMs: number };

export class LoginThrottle {
  private failures = new Map<string, { count: number; blockedUntil: number }>();
  private running = new Map<string, number>();
  private waiting = new Map<string, (() => void)[]>();

  private readonly o: ThrottleOptions;
  private readonly now: () => number;

  constructor(o: ThrottleOptions, now: () => number = Date.now) {
    this.o = o;
    this.now = now;
  }

  /** Resolves when an attempt for these keys may be checked (then `done` must be called), or refused. */
  async begin(keys: string[]): Promise<Admission> {
    let queuedOn: string | undefined;
    for (;;) {
      const blocked = this.blockedFor(keys);
      if (blocked > 0) {
        // Refused after waiting: hand the turn on, so the queue behind keeps draining.
        if (queuedOn) this.wakeNext(queuedOn);
        return { ok: false, retryInMs: blocked };
      }
      const busy = keys.find((k) => (this.running.get(k) ?? 0) >= this.o.concurrent);
      if (!busy) break;
      queuedOn = busy;
      const q = this.waiting.get(busy) ?? [];
      if (q.length >= (this.o.queue ?? 16)) return { ok: false, retryInMs: 0 };
      await new Promise<void>((resolve) => {
        q.push(resolve);
        this.waiting.set(busy, q);
      });
    }
    for (const k of keys) this.running.set(k, (this.running.get(k) ?? 0) + 1);
    let finished = false;
    return {
      ok: true,
      done: (outcome) => {
        if (finished) return;
        finished = true;
        for (const k of keys) {
          const n = (this.running.get(k) ?? 1) - 1;
          if (n <= 0) this.running.delete(k);
          else this.running.set(k, n);
          if (outcome === 'success') this.failures.delete(k);
          else if (outcome === 'failure') this.fail(k);
          // The next in line re-checks the block, which this outcome may just have set.
          this.wakeNext(k);
        }
      },
    };
  }

  private wakeNext(key: string): void {
    const q = this.waiting.get(key);
    q?.shift()?.();
    if (q?.length === 0) this.waiting.delete(key);
  }

  private blockedFor(keys: string[]): number {
    const t = this.now();
    let wait = 0;
    for (const k of keys) wait = Math.max(wait, (this.failures.get(k)?.blockedUntil ?? 0) - t);
    return wait;
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
