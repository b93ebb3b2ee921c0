/**
 * Replicated as in production: on a three-broker KRaft cluster (its own, started here on free
 * ports), the pipeline creates its topics with replication factor 3 and min.insync.replicas=2;
 * the broker leading the raw topic's partitions is killed with SIGKILL mid-stream, and every
 * reading the gateway acknowledged is stored, every aggregate exact, with no service restarted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killNode, nodePid, plaintextBrokers, startCluster, stopCluster, waitClusterReady, type ClusterLayout } from '../../shared/local-engines/kafka-cluster.ts';
import { portOpen } from '../../shared/local-engines/process.ts';
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
    // The broker that leads most of the raw topic's partitions.
    const leaders = (await admin.fetchTopicMetadata({ topics: [raw] })).topics[0]!.partitions.map((x) => x.leader);
    const victim = [...new Set(leaders)].sort((a, b) => leaders.filter((l) => l === b).length - leaders.filter((l) => l === a).length)[0]!;
    await killNode(layout, victim - 1);
    const killedAt = Date.now();
    const summary = await run;
    expect(summary.acked, 'the gateway kept acknowledging after the kill').toBeGreaterThan(0);
    expect(summary).toMatchObject({ unacked: 0 });
    const r = await expectMatchesTruth(p, summary, 120_000).catch(async (err: unknown) => {
      // Where the flow stopped: each topic's end offsets and each group's committed offsets.
      const ends = async (t: string) => (await admin.fetchTopicOffsets(t)).map((o) => o.high).join('/');
      const committed = async (g: string, t: string) => (await admin.fetchOffsets({ groupId: g, topics: [t] }))[0]!.partitions.map((o) => o.offset).join('/');
      console.error(`[leader kill] stalled: raw ${await ends(raw)}, normalized ${await ends(p!.env.TOPIC_NORMALIZED!)}; committed normalizer ${await committed(p!.env.NORMALIZER_GROUP!, raw)}, writer ${await committed(p!.env.WRITER_GROUP!, p!.env.TOPIC_NORMALIZED!)}, aggregator ${await committed(p!.env.AGGREGATOR_GROUP!, p!.env.TOPIC_NORMALIZED!)}; gateway forwarding ${p!.gw.gateway.forwarder.direct ? "directly" : "from its spool"}`);
      throw err;
    });
    await sleep(500);
    const after = (await admin.fetchTopicMetadata({ topics: [raw] })).topics[0]!.partitions;
    await admin.disconnect();
    expect(after.every((x) => x.leader !== victim), 'new leaders elected').toBe(true);
    expect(nodePid(layout, victim - 1)).toBeUndefined();
    console.info(`[leader kill] broker ${victim} (leader of ${leaders.filter((l) => l === victim).length}/${leaders.length} raw partitions) killed ${((Date.now() - killedAt) / 1000).toFixed(0)} s before the check; ${summary.acked} acknowledged, ${r.readings} readings and ${r.windows} windows identical to the ground truth, no service restarted`);
  });
});
