import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging.ts';
import { retryStore } from './retry.ts';

const log = createLogger('test', 'silent');

describe('retryStore', () => {
  it('retries until the call succeeds and reports the end of the wait once', async () => {
    let calls = 0;
    let ended = 0;
    const failures: number[] = [];
    const result = await retryStore(
      async () => {
        if (++calls < 3) throw new Error('connect ECONNREFUSED');
        return 'ok';
      },
      { what: 'write', log, maxDelayMs: 300, onFailure: (a) => failures.push(a), onWaitEnded: () => ended++ },
    );
    expect(result).toBe('ok');
    expect(failures).toEqual([1, 2]);
    expect(ended).toBe(1);
  });

  it('gives up when onFailure throws, and says nothing when there was no wait', async () => {
    let ended = 0;
    await expect(
      retryStore(() => Promise.reject(new Error('down')), { what: 'w', log, maxDelayMs: 300, onFailure: () => { throw new Error('moved'); }, onWaitEnded: () => ended++ }),
    ).rejects.toThrow('moved');
    expect(ended).toBe(1);
    await retryStore(() => Promise.resolve(1), { what: 'w', log, maxDelayMs: 300, onWaitEnded: () => ended++ });
    expect(ended).toBe(1);
  });
});
