/**
 * The project creates its own topics (broker auto-creation is off). Every service calls
 * `ensureTopics` for the topics it touches at start-up, so production needs no manual step.
 */
import type { Admin, Kafka, ITopicConfig } from 'kafkajs';
import type { TopicSpec } from '../bus/bus.ts';

/**
 * The replication a topic gets: as asked, or (0) as the cluster allows — 3 copies on three or
 * more brokers, else 1. With three copies a write needs two in sync (min.insync.replicas 2, with
 * the producers' acks=all), so one broker may fail without losing or refusing an acknowledged write.
 */
export function replicationOf(spec: TopicSpec, brokers: number): { replicationFactor: number; configs: Record<string, string> } {
  const replicationFactor = spec.replicationFactor ? spec.replicationFactor : brokers >= 3 ? 3 : 1;
  const configs = { ...(replicationFactor >= 3 ? { 'min.insync.replicas': '2' } : {}), ...spec.configs };
  return { replicationFactor, configs };
}

async function waitForMetadata(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = specs.filter((s) => !existing.has(s.topic));
    const brokers = wanted.some((s) => !s.replicationFactor) ? (await admin.describeCluster()).brokers.length : 0;
    const missing: ITopicConfig[] = wanted.map((s) => {
      const r = replicationOf(s, brokers);
      return {
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: r.replicationFactor,
        configEntries: Object.entries(r.configs).map(([name, value]) => ({ name, value })),
      };
    });
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing, waitForLeaders: true });
      } catch (err) {
        // Another process may have created it between list and create: that is success.
        if (String((err as Error).message).includes('already exists')) return [];
        const e = err as Error & { type?: string; errors?: { type?: string }[] };
        // Created, but the broker asked for the leaders did not know the topics yet (a cluster
        // just formatted): wait for the metadata to reach it, as the leader wait would have.
        if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
          await waitForMetadata(admin, missing.map((t) => t.topic));
          return missing.map((t) => t.topic);
        }
        if (/AUTHORIZATION_FAILED|not authorized/i.test([e.type, e.message, ...(e.errors ?? []).map((x) => x.type)].join(' '))) {
          throw new Error(`topics ${missing.map((t) => t.topic).join(', ')} do not exist and this service's Kafka principal may not create them: create them as an administrator (\`npm run services -- up\` does, for the local Kafka)`, { cause: err });
        }
        throw err;
      }
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}
