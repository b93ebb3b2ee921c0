/**
 * Replicated as in production: on a three-broker KRaft cluster (its own, started here on free
 * ports), the pipeline creates its topics with replication factor 3 and min.insync.replicas=2;
 * the broker leading the raw topic's partitions is killed with SIGKILL mid-stream, and every
 * reading the gateway acknowledged is stored, every aggregate exact, with no service restarted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killNode, nodePid, plaintextBrokers, startCluster, stopCluster, waitClusterReady, type ClusterLayout } from '../../engines/kafka-cluster.ts';
import { portOpen } from '../../engines/process.ts';
import { sleep } from '../../shared/time.ts';
import { waitUntil } from '../support/gateway.ts';
import { countRaw } from '../support/influx-read.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { expectMatchesTruth, simulate } from '../support/verify.ts';

/** A first port whose three nodes' ports (x, x+1, x+2, x+100, …) are all free. */
async function freeBasePort(): Promise<number> {
  for (;;) {
    const base = 21_000 + Math.floor(Math.random() * 100) * 100;
    const ports = [0, 100, 200].flatMap((o) => [base + o, base + o + 1, base + o + 2]);
    if (!(await Promise.all(ports.map((p) => portOpen(p)))).some(Boolean)) return base;
  }
}

/** Java's String.hashCode, as Kafka uses it to place a group. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Which broker coordinates each group: the leader of the group's __consumer_offsets partition,
 * abs(hashCode(groupId)) % its partition count (Kafka's GroupCoordinatorService.partitionFor).
 */
async function groupCoordinators(admin: Admin, groups: string[]): Promise<{ group: string; broker: number }[]> {
  const parts = (await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] })).topics[0]!.partitions;
  return groups.map((group) => {
    const h = javaHash(group);
    const partition = (h === -2147483648 ? 0 : Math.abs(h)) % parts.length;
    return { group, broker: parts.find((x) => x.partitionId === partition)!.leader };
  });
}

describe('a three-broker Kafka cluster', { timeout: 240_000 }, () => {
  let layout: ClusterLayout;
  let p: Pipeline | undefined;

  beforeAll(async () => {
    layout = { home: mkdtempSync(join(tmpdir(), 'kafka-cluster-')), nodes: 3, basePort: await freeBasePort() };
    await startCluster(layout, { clean: true });
    await waitClusterReady(layout);
  }, 180_000);
  afterAll(async () => {
    await p?.close();
    if (layout) await stopCluster(layout);
  });

  it('replicates the topics 3 ways (min.insync.replicas 2) and loses no acknowledged reading when the raw leader is killed', async () => {
    const kafka = new Kafka({ brokers: plaintextBrokers(layout).split(','), logLevel: logLevel.NOTHING });
    p = await startPipeline({ kafka: { brokers: plaintextBrokers(layout), admin: kafka }, extraEnv: { IDLE_CLOSE_MS: '20000' } });
    const admin = kafka.admin();
    await admin.connect();
    const raw = p.env.TOPIC_RAW!;
    for (const topic of [raw, p.env.TOPIC_NORMALIZED!, p.env.TOPIC_DEADLETTER!]) {
      const meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!;
      for (const part of meta.partitions) expect(part.replicas, `${topic}[${part.partitionId}]`).toHaveLength(3);
      const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }] });
      expect(cfg.resources[0]!.configEntries[0]!.configValue, topic).toBe('2');
    }

    const run = simulate(p, { seed: 51, count: 300 });
    await waitUntil(async () => (await countRaw(p!.store, 'energy')) + (await countRaw(p!.store, 'fleet')) + (await countRaw(p!.store, 'parking')) > 300, 60_000, 'readings flowing');
    // A broker leading raw partitions; of those, preferably one that is also a worker group's
    // coordinator (that case once stalled a worker for good: kafkajs kept committing to the dead
    // coordinator), then the one leading the most.
    const leaders = (await admin.fetchTopicMetadata({ topics: [raw] })).topics[0]!.partitions.map((x) => x.leader);
    const groups = [p.env.NORMALIZER_GROUP!, p.env.WRITER_GROUP!, p.env.AGGREGATOR_GROUP!];
    const coordinators = await groupCoordinators(admin, groups);
    const score = (b: number) => (coordinators.some((c) => c.broker === b) ? 100 : 0) + leaders.filter((l) => l === b).length;
    const victim = [...new Set(leaders)].sort((a, b) => score(b) - score(a))[0]!;
    const coordinated = coordinators.filter((c) => c.broker === victim).map((c) => c.group.replace(/^p-[0-9a-f]+-/, ''));
    await killNode(layout, victim - 1);
    const killedAt = Date.now();
    const summary = await run;
    expect(summary.acked, 'the gateway kept acknowledging after the kill').toBeGreaterThan(0);
    expect(summary).toMatchObject({ unacked: 0 });
    const r = await expectMatchesTruth(p, summary, 120_000);
    await sleep(500);
    const after = (await admin.fetchTopicMetadata({ topics: [raw] })).topics[0]!.partitions;
    await admin.disconnect();
    expect(after.every((x) => x.leader !== victim), 'new leaders elected').toBe(true);
    expect(nodePid(layout, victim - 1)).toBeUndefined();
    console.info(`[leader kill] broker ${victim} (leader of ${leaders.filter((l) => l === victim).length}/${leaders.length} raw partitions, coordinator of ${coordinated.join(', ') || 'no worker group'}) killed ${((Date.now() - killedAt) / 1000).toFixed(0)} s before the check; ${summary.acked} acknowledged, ${r.readings} readings and ${r.windows} windows identical to the ground truth, no service restarted`);
  });
});
