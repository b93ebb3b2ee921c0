/** The runner on the embedded bus with a fake store: decode failures and refused points become dead letters, outputs go out in order, the commit follows. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadOnly } from '../embedded/sqlite.ts';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SqliteBus } from '../embedded/sqlite-bus.ts';
import { createLogger } from '../logging.ts';
import { deadLetterSchema } from '../schemas/deadletter.ts';
import type { StorePoint } from '../store/store.ts';
import { runBatches, type BatchProcessor } from './batch-runner.ts';

const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('runBatches', () => {
  it('dead-letters what cannot be decoded and what the store refuses, stores and produces the rest, then commits', async () => {
    const bus = new SqliteBus(join(mkdtempSync(join(tmpdir(), 'runner-')), 'bus.db'));
    await bus.ensureTopics(['in', 'out', 'dead'].map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
    const p = await bus.producer();
    await p.send('in', ['1', 'boom', '2', 'refuse-me', '3'].map((value) => ({ key: 'k', value })));
    const stored: StorePoint[] = [];
    const store = {
      write: async (points: StorePoint[]) => {
        if (points.some((x) => x.tags.v === 'refuse-me')) throw Object.assign(new Error('field type conflict'), { statusCode: 400 });
        stored.push(...points);
      },
      isRefusal: (err: unknown) => (err as { statusCode?: number }).statusCode === 400,
    };
    const processor: BatchProcessor<string> = {
      decode: (m) => {
        const v = m.value!.toString();
        if (v === 'boom') throw new RangeError('Invalid time value');
        return v;
      },
      async process({ records }) {
        return {
          produce: [{ topic: 'out', messages: records.map((r) => ({ key: 'k', value: `seen ${r.value}` })) }],
          points: records.map((r) => ({ point: { measurement: 'm', tags: { v: r.value }, fields: { x: 1 }, ts: Number(r.record.offset) }, record: r.record })),
          deadLetters: [],
        };
      },
    };
    const w = await runBatches(processor, { bus, log: createLogger('t', 'silent'), registry: new Registry(), onFatal: () => undefined, deadLetterStage: 'probe-stage' }, { cfg: { BUS_GROUP_ID: 'g', BUS_SESSION_TIMEOUT_MS: 10_000, TOPIC_DEADLETTER: 'dead' }, topic: 'in', store });
    await waitFor(() => bus.lag('g', 'in') === 0);
    await w.stop();

    expect(stored.map((x) => x.tags.v)).toEqual(['1', '2', '3']);
    const db = openReadOnly(bus.path);
    const read = (topic: string) => db.prepare<[string], { value: Buffer }>('SELECT value FROM records WHERE topic = ? ORDER BY offset').all(topic).map((r) => r.value.toString());
    expect(read('out')).toEqual(['seen 1', 'seen 2', 'seen refuse-me', 'seen 3']);
    const dead = read('dead').map((v) => deadLetterSchema.parse(JSON.parse(v)));
    expect(dead.map((d) => [d.code, 'offset' in d.source ? d.source.offset : undefined, d.original])).toEqual([
      ['processing_failed', '1', 'boom'],
      ['store_refused', '3', 'refuse-me'],
    ]);
    expect(dead[0]!.error).toBe('RangeError: Invalid time value');
    expect(dead.map((d) => d.stage)).toEqual(['probe-stage', 'probe-stage']); // the stage's name as its catalogue entry gives it
    db.close();
    await bus.close();
  });
});
