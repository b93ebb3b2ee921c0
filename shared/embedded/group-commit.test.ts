import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { groupCalls } from './group-commit.test-thread.ts';
import { openReadOnly, sqliteCode } from './sqlite.ts';
import { ThreadCalls } from '../thread-calls.ts';

function open() {
  const path = join(mkdtempSync(join(tmpdir(), 'group-commit-')), 'g.db');
  return { path, thread: new ThreadCalls<typeof groupCalls>({ script: new URL('./group-commit.test-thread.ts', import.meta.url), workerData: { path } }) };
}
const ids = (path: string) =>
  openReadOnly(path)
    .prepare<[], { id: number }>('SELECT id FROM rows ORDER BY id')
    .all()
    .map((r) => r.id);

describe('group commit', () => {
  it('makes the calls waiting together durable in far fewer commits than calls, each answered once on disk', async () => {
    const { path, thread } = open();
    await thread.call('insert', [[0, 'first']]);
    const before = await thread.call('commits', undefined);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => thread.call('insert', [[i + 1, `row ${i + 1}`]])));
    expect(answers.every((n) => n === 1)).toBe(true);
    // Every answered row is readable by another connection: it was committed before the answer.
    expect(ids(path)).toHaveLength(201);
    const commits = (await thread.call('commits', undefined)) - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(50);
    await thread.close();
  });

  it("rolls back only the failing call's own rows, and the others in its commit stay", async () => {
    const { path, thread } = open();
    const results = await Promise.allSettled([
      thread.call('insert', [[1, 'a'], [2, 'b']]),
      thread.call('insert', [[3, 'c'], [4, null]]), // fails at its second row: row 3 must go too
      thread.call('insert', [[5, 'e']]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sqliteCode((results[1] as PromiseRejectedResult).reason)).toBe('SQLITE_CONSTRAINT');
    expect(ids(path)).toEqual([1, 2, 5]);
    expect(await thread.call('rollbacks', undefined)).toBe(0);
    await thread.close();
  });
});
