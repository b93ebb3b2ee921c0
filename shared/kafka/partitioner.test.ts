import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_KEYS, rememberingKeyPartitioner } from './partitioner.ts';

const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));
const args = (key: string | Buffer | null, partitions: number, topic = 't'): PartitionerArgs => ({ topic, partitionMetadata: metadata(partitions), message: { key, value: 'v' } });

describe('rememberingKeyPartitioner', () => {
  it('places every key where kafkajs (and the Java client) would, before and after remembering it', () => {
    const remembering = rememberingKeyPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 4, 6, 7]) {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 500; i++) {
          const key = `athens-energy-${i}`;
          expect(remembering(args(key, partitions))).toBe(reference(args(key, partitions)));
        }
      }
    }
  });

  it('places byte keys by their bytes (not as a string of the same spelling), and honours an explicit partition', () => {
    const p = rememberingKeyPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    // "Ã©" as text is four UTF-8 bytes; the two bytes C3 A9 read as latin1 spell it too.
    const text = 'Ã©';
    const bytes = Buffer.from('é');
    const partitions = [...Array(40).keys()].map((n) => n + 2).find((n) => reference(args(text, n)) !== reference(args(bytes, n)))!;
    expect(p(args(text, partitions))).toBe(reference(args(text, partitions)));
    expect(p(args(bytes, partitions))).toBe(reference(args(bytes, partitions)));
    expect(p({ ...args('dev-1', 6), message: { key: 'dev-1', value: 'v', partition: 5 } })).toBe(5);
  });

  it('places keys anew when the topic grows partitions, and keeps topics apart', () => {
    const p = rememberingKeyPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const k of keys) p(args(k, 2, 'a'));
    expect(keys.map((k) => p(args(k, 7, 'a')))).toEqual(keys.map((k) => reference(args(k, 7))));
    expect(keys.map((k) => p(args(k, 3, 'b')))).toEqual(keys.map((k) => reference(args(k, 3))));
  });

  it('still answers correctly past the memory bound', () => {
    const p = rememberingKeyPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    for (let i = 0; i < MAX_REMEMBERED_KEYS + 10; i++) p(args(`d${i}`, 6));
    expect(p(args('d5', 6))).toBe(reference(args('d5', 6)));
    expect(p(args(`d${MAX_REMEMBERED_KEYS + 5}`, 6))).toBe(reference(args(`d${MAX_REMEMBERED_KEYS + 5}`, 6)));
  });
});
