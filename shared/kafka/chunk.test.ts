import { describe, expect, it } from 'vitest';
import { chunkMessages } from './chunk.ts';

describe('chunkMessages', () => {
  it('keeps order and stays under the byte bound, one oversized message alone', () => {
    const msgs = [100, 100, 100, 900, 50].map((n, i) => ({ key: `k${i}`, value: 'x'.repeat(n) }));
    const chunks = chunkMessages(msgs, 400);
    expect(chunks.map((c) => c.map((m) => m.key))).toEqual([['k0', 'k1'], ['k2'], ['k3'], ['k4']]);
    expect(chunks.flat()).toEqual(msgs);
  });
});
