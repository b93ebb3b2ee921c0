import { describe, expect, it } from 'vitest';
import type { BusBatch } from '../../shared/bus/bus.ts';
import { toNormalizedMessage, type CanonicalReading } from '../../shared/schemas/readings.ts';
import { admitBatch } from './admit.ts';
import { restorePartition } from './partition-state.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12);
const timing = { delayMs: 0, latenessMs: 0, quietMs: 10 * MIN };
const reading = (ts: number, deviceId = 'm1'): CanonicalReading => ({ kind: 'energy', deviceId, municipality: 'kalamata', ts, tsFromGateway: false, receivedAt: NOW, gatewayId: 'g', attrs: {}, values: { energy_wh: ts / 1000 } });
/** A batch of records from offset `from`, one per message (each a list of one device's readings). */
const batchOf = (from: number, ...messages: CanonicalReading[][]) => {
  const records = messages.map((readings, i) => ({ record: { offset: String(from + i), key: null, value: Buffer.from('{}'), timestamp: '0' }, value: toNormalizedMessage(readings) }));
  const batch: BusBatch = { topic: 't', partition: 0, highWatermark: String(from + messages.length), messages: records.map((r) => r.record) };
  return { batch, records };
};

describe('admitBatch', () => {
  it("reopens a reading's window its device already closed, and dead-letters one older than the retention once, listing its late readings", () => {
    const st = restorePartition(undefined, timing, 0);
    const first = batchOf(10, [reading(NOW - 2 * DAY), reading(NOW - 2 * DAY + 20 * MIN)]);
    admitBatch(st, first.batch, first.records, () => 30 * DAY);
    expect(st.windows.takeClosed()).toHaveLength(1); // the first quarter hour, by the device's own progress
    const { batch, records } = batchOf(11, [reading(NOW - 2 * DAY + MIN)], [reading(NOW - 40 * DAY), reading(NOW - 41 * DAY)]);
    const out = admitBatch(st, batch, records, () => 30 * DAY);
    expect([...out.reopened.values()].map((o) => [o.deviceId, o.from])).toEqual([['m1', NOW - 2 * DAY]]);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]!.rejections.map((r) => [r.code, r.index])).toEqual([['late', 0], ['late', 1]]);
    expect(out.lateKinds).toEqual(['energy', 'energy']);
    expect([st.next, st.caughtUp]).toEqual([13, true]);
  });

  it('counts records that are not normalised messages, and sends no dead letter twice after a restart', () => {
    const st = restorePartition({ offset: '10', metadata: JSON.stringify({ ts: NOW, hi: 13 }) }, timing, 0);
    const { batch, records } = batchOf(10, [reading(NOW - 2 * DAY + 20 * MIN)], [reading(NOW - 2 * DAY + MIN)], [reading(NOW - 40 * DAY), reading(NOW - 41 * DAY)]);
    const out = admitBatch(st, batch, [...records, { record: { offset: '13', key: null, value: null, timestamp: '0' }, value: undefined }], () => 30 * DAY);
    expect(out.invalid).toBe(1);
    expect(out.deadLetters).toEqual([]); // below `hi`: sent before the restart
    expect(out.reopened.size).toBe(1);
  });
});
