/**
 * The project creates its own topics (broker auto-creation is off). Every service calls
 * `ensureTopics` for the topics it touches at start-up, so production needs no manual step.
 */
import type { Kafka, ITopicConfig } from 'kafkajs';
import type { TopicSpec } from '../bus/bus.ts';

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = specs
      .filter((s) => !existing.has(s.topic))
      .map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      }));
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing, waitForLeaders: true });
      } catch (err) {
        // Another process may have created it between list and create: that is success.
        if (!String((err as Error).message).includes('already exists')) throw err;
      }
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}
