/** Reads a whole topic (all partitions, from the beginning) with kafkajs, for assertions. */
import type { Kafka } from 'kafkajs';
import { unique } from './services.ts';

export interface ReadRecord {
  key: string;
  value: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** Everything in `topic` up to its current end offsets. */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  // From each partition's oldest kept record: an erasure may have cut a partition's head.
  const total = ends.reduce((a, e) => a + Number(e.high) - Number(e.low), 0);
  const out: ReadRecord[] = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (Number(message.offset) >= (want.get(partition) ?? 0)) return;
        out.push({
          key: String(message.key),
          value: String(message.value),
          partition,
          offset: Number(message.offset),
          timestamp: Number(message.timestamp),
        });
        if (out.length >= total) resolve();
      },
    });
  });
  const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`read ${out.length}/${total} of ${topic}`)), 60_000));
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
