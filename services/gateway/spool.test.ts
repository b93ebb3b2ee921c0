import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool, SpoolFullError, type SpoolRecord } from './spool.ts';

const opts = { maxBytes: 1_000_000, segmentBytes: 1000, fsyncDelayMs: 1 };
const rec = (i: number): SpoolRecord => ({ key: `dev-${i % 3}`, timestamp: 1_700_000_000_000 + i, value: JSON.stringify({ i, text: 'a\tb\nc' }) });

function drainAll(spool: Spool, batch = 7): SpoolRecord[] {
  const out: SpoolRecord[] = [];
  for (;;) {
    const { records, commit } = spool.read(batch);
    if (records.length === 0) return out;
    out.push(...records);
    commit();
  }
}

describe('Spool', () => {
  it('returns appended records in order across segments and deletes replayed segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await Spool.open(dir, opts);
    const all = Array.from({ length: 100 }, (_, i) => rec(i));
    // Concurrent appends share one fsync; sequential groups fill several segments.
    for (let i = 0; i < 100; i += 10) await Promise.all(all.slice(i, i + 10).map((r) => spool.append([r])));
    expect(spool.depthRecords).toBe(100);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(3);
    expect(drainAll(spool)).toEqual(all);
    expect(spool.isEmpty).toBe(true);
    expect(spool.depthBytes).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-'))).toHaveLength(1);
    await spool.close();
  });

  it('says when its oldest waiting record was accepted, across segments and a reopen, and nothing when empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    let spool = await Spool.open(dir, opts);
    expect(spool.oldestTimestamp()).toBeUndefined();
    for (let i = 0; i < 40; i += 10) await spool.append(Array.from({ length: 10 }, (_, j) => rec(i + j)));
    expect(spool.oldestTimestamp()).toBe(rec(0).timestamp);
    for (let n = 0; n < 25; ) {
      const { records, commit } = spool.read(25 - n); // the cursor moves into a later segment
      commit();
      n += records.length;
    }
    expect(spool.oldestTimestamp()).toBe(rec(25).timestamp);
    await spool.close();
    spool = await Spool.open(dir, opts);
    expect(spool.oldestTimestamp()).toBe(rec(25).timestamp);
    drainAll(spool);
    expect(spool.oldestTimestamp()).toBeUndefined();
    await spool.close();
  });

  it('survives a reopen: what was not committed is read again, what was is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    let spool = await Spool.open(dir, opts);
    await spool.append(Array.from({ length: 30 }, (_, i) => rec(i)));
    const first = spool.read(10);
    first.commit();
    spool.read(10); // read but never committed (as if the process died before Kafka acked)
    await spool.close();

    spool = await Spool.open(dir, opts);
    expect(spool.depthRecords).toBe(20);
    expect(drainAll(spool).map((r) => r.timestamp)).toEqual(Array.from({ length: 20 }, (_, i) => rec(i + 10).timestamp));
    await spool.close();
  });

  it('cuts a torn last line left by a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    let spool = await Spool.open(dir, { ...opts, segmentBytes: 1_000_000 });
    await spool.append([rec(1), rec(2)]);
    await spool.close();
    const seg = readdirSync(dir).find((f) => f.startsWith('segment-'))!;
    appendFileSync(join(dir, seg), 'dev-1\t17000\t{"half":'); // no newline: never synced/acknowledged
    spool = await Spool.open(dir, opts);
    expect(drainAll(spool)).toEqual([rec(1), rec(2)]);
    await spool.close();
  });

  it('refuses appends beyond its bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const spool = await Spool.open(dir, { ...opts, maxBytes: 300 });
    await spool.append([rec(1), rec(2)]);
    await expect(spool.append(Array.from({ length: 10 }, (_, i) => rec(i)))).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.depthRecords).toBe(2);
    await spool.close();
  });
});
