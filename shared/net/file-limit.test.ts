import { describe, expect, it } from 'vitest';
import { connectionCap, openFileLimit, parseFileLimit } from './file-limit.ts';

describe('file limit', () => {
  it('reads the open-files line of /proc/<pid>/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(parseFileLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseFileLimit('nothing here')).toBeUndefined();
    if (process.platform === 'linux') expect(openFileLimit()!.soft).toBeGreaterThan(0);
  });

  it('keeps the connection cap below the limit less the reserve', () => {
    expect(connectionCap(0, { soft: 1024, hard: 1024 }, 512)).toBe(512);
    expect(connectionCap(100, { soft: 1024, hard: 1024 }, 512)).toBe(100);
    expect(connectionCap(5000, { soft: 1024, hard: 1024 }, 512)).toBe(512);
    expect(connectionCap(0, undefined, 512)).toBe(10_000);
  });
});
