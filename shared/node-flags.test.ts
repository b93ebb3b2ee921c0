import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags } from './node-flags.ts';

describe('missingNodeFlags', () => {
  it('lists the wanted flags the process was not started with', () => {
    expect(missingNodeFlags(['--max-semi-space-size=16', '--stack-size=2000'], ['--stack-size=900'])).toEqual(['--max-semi-space-size=16']);
    expect(missingNodeFlags(['--max-semi-space-size=16'], [])).toEqual(['--max-semi-space-size=16']);
  });

  it('leaves a flag the operator set, with any value and either spelling, on the command line or in NODE_OPTIONS', () => {
    expect(missingNodeFlags(['--max-semi-space-size=16'], ['--max_semi_space_size=64'])).toEqual([]);
    expect(missingNodeFlags(['--max-semi-space-size=16'], [], '  --enable-source-maps --max-semi-space-size=32 ')).toEqual([]);
  });
});

describe.runIf(process.platform !== 'win32')('restartWithNodeFlags', () => {
  const script = new URL('./node-flags.test-process.ts', import.meta.url).pathname;
  const run = (execArgv: string[]) => {
    const r = spawnSync(process.execPath, [...execArgv, script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as { pid: number; execArgv: string[]; note?: string; newSpaceMb: number };
    return { ...seen, spawnedPid: r.pid, startedAs: [...r.stderr.matchAll(/started as (\d+)/g)].map((m) => Number(m[1])) };
  };

  it('starts the process again in place, same pid, with the missing flags, and V8 sizes its heap by them', () => {
    const r = run([]);
    expect(r.execArgv).toEqual(['--max-semi-space-size=4']);
    expect(r.note).toBeUndefined();
    // Two starts, one process: whoever started it (and may kill -9 it) still holds the right pid.
    expect(r.startedAs).toEqual([r.spawnedPid, r.spawnedPid]);
    expect(r.pid).toBe(r.spawnedPid);
    // 4 MB a half: the young generation stays within 8 MB (V8's default here grows to 64 MB or more).
    expect(r.newSpaceMb).toBeLessThanOrEqual(8);
  });

  it("keeps the operator's own value and does not restart", () => {
    const r = run(['--max-semi-space-size=32']);
    expect(r.execArgv).toEqual(['--max-semi-space-size=32']);
    expect(r.startedAs).toEqual([r.spawnedPid]);
    expect(r.newSpaceMb).toBeGreaterThan(8);
  });
});
