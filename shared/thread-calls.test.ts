import { describe, expect, it, vi } from 'vitest';
import { sqliteCode } from './embedded/sqlite.ts';
import type { testCalls } from './thread-calls.test-thread.ts';
import { ThreadCalls } from './thread-calls.ts';

const thread = () => new ThreadCalls<typeof testCalls>({ script: new URL('./thread-calls.test-thread.ts', import.meta.url), workerData: {} });

describe('ThreadCalls', () => {
  it('answers each call with its result, in the order the calls were made', async () => {
    const t = thread();
    const order: number[] = [];
    const calls = [t.call('slow', 60).then((v) => order.push(v)), t.call('slow', 1).then((v) => order.push(v)), t.call('echo', { a: [1, 'b'] })];
    expect(await calls[2]).toEqual({ a: [1, 'b'] });
    await Promise.all(calls);
    expect(order).toEqual([60, 1]);
    await t.close();
  });

  it("keeps what callers tell errors apart by: the class and name, the message, SQLite's errcode, a system error's code and port", async () => {
    const t = thread();
    const full = await t.call('failFull', undefined).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(Error);
    expect((full as Error).message).toBe('database or disk is full');
    expect(sqliteCode(full)).toBe('SQLITE_FULL');
    const type = await t.call('failType', undefined).catch((e: unknown) => e);
    expect(type).toBeInstanceOf(TypeError);
    expect(sqliteCode(type)).toBeUndefined();
    const listen = await t.call('failListen', undefined).catch((e: unknown) => e);
    expect(listen).toMatchObject({ code: 'EADDRINUSE', port: 9102 });
    const config = await t.call('failConfig', undefined).catch((e: unknown) => e);
    expect(config).toMatchObject({ name: 'ConfigError', message: "invalid configuration: WRITE_BATCH_MAX='abc'" });
    expect(await t.call('echo', 'still answering')).toBe('still answering');
    await t.close();
  });

  it('rejects the pending calls of a thread that dies, and starts a new one for the next call', async () => {
    const t = thread();
    const dying = t.call('die', undefined);
    const behind = t.call('echo', 'never answered');
    await expect(dying).rejects.toThrow(/stopped: exit code 3/);
    await expect(behind).rejects.toThrow(/stopped/);
    expect(await t.call('echo', 7)).toBe(7);
    await t.close();
  });

  it('takes calls from another caller on a port it gave (as a second thread would), and sends notices to every caller', async () => {
    const heard: string[][] = [[], []];
    const t = new ThreadCalls<typeof testCalls>({ script: new URL('./thread-calls.test-thread.ts', import.meta.url), workerData: {} }, (n) => heard[0]!.push(n as string));
    const other = new ThreadCalls<typeof testCalls>({ port: t.connect() }, (n) => heard[1]!.push(n as string));
    expect(await other.call('echo', 'through the port')).toBe('through the port');
    await other.call('shout', 'appended');
    await t.call('shout', 'again');
    // A notice reaches the caller that asked before the answer; the other caller on its own port, soon after.
    await vi.waitFor(() => expect(heard[1]).toHaveLength(2));
    expect(heard).toEqual([
      ['appended', 'again'],
      ['appended', 'again'],
    ]);
    await other.close();
    await t.close();
  });

  it("rejects, rather than leaves waiting, the calls of a port whose thread stopped", async () => {
    const t = thread();
    const other = new ThreadCalls<typeof testCalls>({ port: t.connect() });
    expect(await other.call('echo', 1)).toBe(1);
    const behind = other.call('slow', 5_000);
    await t.close(); // waits for its own calls only: the thread stops with \`behind\` under way
    await expect(behind).rejects.toThrow(/stopped/);
    await expect(other.call('echo', 2)).rejects.toThrow(/stopped/);
  });

  it('close waits for the calls under way', async () => {
    const t = thread();
    let answered = false;
    void t.call('slow', 100).then(() => (answered = true));
    await t.close();
    expect(answered).toBe(true);
  });
});
