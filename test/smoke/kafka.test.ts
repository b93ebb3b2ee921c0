/** Proves the broker is a real Kafka: a record produced and consumed through kafkajs. */
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { testKafka, unique } from '../support/services.ts';

describe('Kafka (real broker)', () => {
  it('round-trips a record through a topic the project created', async () => {
    const kafka = testKafka();
    const topic = unique('smoke');
    expect(await ensureTopics(kafka, [{ topic, partitions: 3, replicationFactor: 1 }])).toEqual([topic]);
    // A second call finds it and creates nothing.
    expect(await ensureTopics(kafka, [{ topic, partitions: 3, replicationFactor: 1 }])).toEqual([]);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const value = JSON.stringify({ hello: 'kalamata', at: Date.now() });
    await producer.send({ topic, acks: -1, messages: [{ key: 'meter-1', value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: unique('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value) }),
      });
    });
    await consumer.disconnect();
    expect(received).toEqual({ key: 'meter-1', value });

    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });

  it('does not create topics on first use (auto-creation is off)', async () => {
    const kafka = testKafka();
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    const topic = unique('never-created');
    await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    await producer.disconnect();
  });
});
