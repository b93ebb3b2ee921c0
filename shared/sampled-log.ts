/**
 * Log lines that outsiders can cause (refused logins, refused requests, unknown uplinks) are
 * rate-limited, per key (say, reason and source address) and in total, so a flood of refusals
 * costs a few lines a second instead of one line per refusal. Every suppressed line is counted
 * (the caller's metric) and summed up in one line per period, so nothing disappears unseen.
 */
import type { Logger } from './logging.ts';
import { RateLimiter } from './rate-limit.ts';

export interface SampledLogOptions {
  /** Lines per second per key, sustained, and at once. */
  perKey: { rate: number; burst: number };
  /** Lines per second over all keys, sustained, and at once. */
  total: { rate: number; burst: number };
  /** How often suppressed lines are summed up in one line. */
  summaryEveryMs: number;
}

export const REFUSAL_LOG_LIMITS: SampledLogOptions = { perKey: { rate: 0.2, burst: 5 }, total: { rate: 10, burst: 50 }, summaryEveryMs: 60_000 };

export class SampledLog {
  private readonly perKey: RateLimiter;
  private readonly total: RateLimiter;
  private suppressed = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  private readonly log: Logger;
  private readonly onSuppressed: (msg: string) => void;

  constructor(log: Logger, o: SampledLogOptions = REFUSAL_LOG_LIMITS, onSuppressed: (msg: string) => void = () => undefined) {
    this.log = log;
    this.onSuppressed = onSuppressed;
    this.perKey = new RateLimiter(o.perKey.rate, o.perKey.burst);
    this.total = new RateLimiter(o.total.rate, o.total.burst);
    this.timer = setInterval(() => this.summarise(), o.summaryEveryMs);
    this.timer.unref();
  }

  /** Logs at warn, unless `key` (or everyone together) is over its lines. */
  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    if (this.perKey.take(`${msg}\0${key}`) && this.total.take('')) return this.log.warn(obj, msg);
    this.suppressed.set(msg, (this.suppressed.get(msg) ?? 0) + 1);
    this.onSuppressed(msg);
  }

  close(): void {
    clearInterval(this.timer);
    this.summarise();
  }

  private summarise(): void {
    if (this.suppressed.size === 0) return;
    this.log.warn({ suppressed: Object.fromEntries(this.suppressed) }, 'log lines suppressed (over their rate); the metrics count every one');
    this.suppressed.clear();
  }
}
