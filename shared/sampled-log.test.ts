import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SampledLog } from './sampled-log.ts';

describe('SampledLog', () => {
  it('logs a few lines per key and in total, counts the rest, and sums them up', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    let suppressed = 0;
    const s = new SampledLog(log, { perKey: { rate: 0.001, burst: 3 }, total: { rate: 0.001, burst: 10 }, summaryEveryMs: 3_600_000 }, () => suppressed++);
    for (let i = 0; i < 1000; i++) s.warn('bad_secret|6.6.6.6', { i }, 'connection refused');
    for (let k = 0; k < 100; k++) s.warn(`bad_secret|10.0.0.${k}`, {}, 'connection refused');
    expect(lines).toHaveLength(10);
    expect(suppressed).toBe(1090);
    s.close();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ suppressed: { 'connection refused': 1090 } });
  });
});
