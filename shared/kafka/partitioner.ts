/**
 * kafkajs's default partitioner (murmur2 of the key, as the Java client places keys), remembering
 * each key's partition. A keyed record's partition depends only on its key and the topic's
 * partition count, so the answer is the same; what is saved is hashing the same few thousand
 * device ids again for every record: a kafkajs producer's CPU per record went from 25 µs to
 * 16–20 µs (`npm run bench:kafka-clients`, bench/reports/kafka-clients.md).
 */
import './kafkajs-speedups.ts'; // first: it replaces modules kafkajs loads as it loads
import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/** Keys remembered per topic; past this the memory starts afresh (a fleet this large hashes as before). */
export const MAX_REMEMBERED_KEYS = 100_000;

export const rememberingKeyPartitioner: ICustomPartitioner = () => {
  const hash = Partitioners.DefaultPartitioner();
  const topics = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    // Only string keys (ours are device ids) are remembered: bytes and text could share a spelling.
    const key = message.key;
    if (typeof key !== 'string') return hash(args);
    let t = topics.get(topic);
    // A topic that grew partitions places keys anew.
    if (!t || t.partitions !== partitionMetadata.length || t.byKey.size >= MAX_REMEMBERED_KEYS) {
      t = { partitions: partitionMetadata.length, byKey: new Map() };
      topics.set(topic, t);
    }
    let p = t.byKey.get(key);
    if (p === undefined) {
      p = hash(args);
      t.byKey.set(key, p);
    }
    return p;
  };
};
