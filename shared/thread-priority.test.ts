import { execFileSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

describe.runIf(process.platform === 'linux')('niceThisThread', () => {
  it('lowers the calling thread and the threads it starts, not the rest of the process', async () => {
    const before = getPriority(0);
    const nice = Math.min(19, before + 7);
    expect(nice, 'the test process already runs at the lowest priority').not.toBe(before);
    const t = new Worker(new URL('./thread-priority.test-thread.ts', import.meta.url), { workerData: { nice } });
    const [seen] = (await once(t, 'message')) as [{ own: number; inherited: number }];
    await t.terminate();
    expect(seen).toEqual({ own: nice, inherited: nice });
    expect(getPriority(0)).toBe(before);
  });
});

describe.runIf(process.platform === 'linux')('niceThisProcess', () => {
  it("lowers every thread of the process — V8's own and those started later — not its parent", () => {
    const before = getPriority(0);
    const nice = Math.min(19, before + 7);
    const out = execFileSync(process.execPath, [new URL('./thread-priority.test-process.ts', import.meta.url).pathname, String(nice)], { encoding: 'utf8' });
    const threads = JSON.parse(out) as number[];
    // Node starts its collector and libuv threads before any script: several, all lowered.
    expect(threads.length).toBeGreaterThan(4);
    expect(new Set(threads)).toEqual(new Set([nice]));
    expect(getPriority(0)).toBe(before);
  });
});
