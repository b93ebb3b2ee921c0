import { describe, expect, it } from 'vitest';
import { summarise } from './cpu-profile.ts';

describe('summarise', () => {
  it('adds up self time by function and by package, largest first, leaving idle time out', () => {
    const node = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url, lineNumber: 9 } });
    const s = summarise({
      nodes: [node(1, '(root)', ''), node(2, 'send', 'file:///x/node_modules/kafkajs/src/producer.js'), node(3, 'parse', 'file:///x/services/writer/writer.ts'), node(4, 'encode', 'file:///x/node_modules/kafkajs/src/codec.js'), node(5, '(idle)', '')],
      samples: [2, 3, 2, 4, 3, 2, 5],
      timeDeltas: [100, 50, 100, 25, 50, 100, 1000],
    });
    expect(s.total).toBe(425);
    expect(s.byOwner).toEqual([
      ['kafkajs', 325],
      ['services/writer/writer.ts', 100],
    ]);
    expect(s.byFunction[0]).toEqual(['send kafkajs:10', 300]);
  });
});
