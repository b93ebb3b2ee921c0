/**
 * Nothing lost, nothing counted twice, whatever stops: InfluxDB stopped mid-stream, Kafka stopped
 * mid-stream, each worker killed with SIGKILL mid-stream, two aggregators sharing the partitions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { influxPid, startInflux, stopInflux, waitInfluxReady } from '../../engines/influxdb.ts';
import type { WorkerName } from '../support/pipeline.ts';
import { startPipeline } from '../support/pipeline.ts';
import { expectMatchesTruth, simulate } from '../support/verify.ts';
import { leaveKafkaRunning, testKafka } from '../support/services.ts';
import { kafkaPid, startKafka, stopKafka, waitKafkaReady } from '../../engines/kafka.ts';
import { sleep } from '../../shared/time.ts';


describe('pipeline disruptions', { timeout: 180_000 }, () => {
  afterAll(async () => {
    if (influxPid() === undefined) await startInflux();
    await waitInfluxReady();
    await leaveKafkaRunning();
  });

  it('loses nothing and duplicates nothing when InfluxDB is stopped mid-stream', async () => {
    expect(influxPid(), 'this test stops the InfluxDB that `npm run services -- up` started').toBeDefined();
    // Idle closing must outlast the outage (see IDLE_CLOSE_MS in the aggregator README).
    const p = await startPipeline({ extraEnv: { IDLE_CLOSE_MS: '20000' } });
    const run = simulate(p, { seed: 21 });
    await sleep(2500);
    await stopInflux();
    await sleep(5000);
    await startInflux();
    await waitInfluxReady();
    const summary = await run;
    expect(summary).toMatchObject({ refused: 0, unacked: 0 });
    const r = await expectMatchesTruth(p, summary);
    console.info(`[influx-outage] ${r.readings} readings and ${r.windows} windows identical after a 5 s InfluxDB outage`);
    await p.close();
  });

  it('loses nothing and duplicates nothing when Kafka is stopped mid-stream for longer than a consumer retries', async () => {
    expect(kafkaPid(), 'this test stops the Kafka that `npm run services -- up` started').toBeDefined();
    const p = await startPipeline({ extraEnv: { IDLE_CLOSE_MS: '30000', BUS_SEND_TIMEOUT_MS: '2000' } });
    const run = simulate(p, { seed: 23 });
    await sleep(2500);
    await stopKafka();
    // Longer than a consumer's retries last (shared/kafka/kafka-bus.ts): the workers' consumers
    // give up, and must come back by themselves once the broker does; the gateway spools meanwhile.
    await sleep(20_000);
    await startKafka();
    await waitKafkaReady();
    const summary = await run;
    expect(summary).toMatchObject({ refused: 0, unacked: 0 });
    const r = await expectMatchesTruth(p, summary);
    console.info(`[kafka-outage] ${r.readings} readings and ${r.windows} windows identical after a 20 s Kafka outage, no worker restarted`);
    await p.close();
  });

  it.each<WorkerName>(['normalizer', 'writer', 'aggregator'])('gives identical results when the %s is killed with SIGKILL mid-stream', async (victim) => {
    const p = await startPipeline({ inProcess: [], extraEnv: { IDLE_CLOSE_MS: '20000' } });
    const workers = new Map<WorkerName, Awaited<ReturnType<typeof p.spawnWorker>>>();
    for (const w of ['normalizer', 'writer', 'aggregator'] as const) workers.set(w, await p.spawnWorker(w));
    const run = simulate(p, { seed: 31 });
    await sleep(3000);
    workers.get(victim)!.kill('SIGKILL');
    await sleep(500);
    workers.set(victim, await p.spawnWorker(victim));
    const summary = await run;
    const r = await expectMatchesTruth(p, summary);
    console.info(`[kill ${victim}] ${r.readings} readings and ${r.windows} windows identical to the ground truth`);
    for (const w of workers.values()) w.kill('SIGTERM');
    await p.close();
  });

  it('gives the same aggregates with two aggregator processes in one group as with one', async () => {
    const p = await startPipeline({ inProcess: ['normalizer', 'writer'], extraEnv: { IDLE_CLOSE_MS: '20000' } });
    const first = await p.spawnWorker('aggregator');
    const run = simulate(p, { seed: 41 });
    await sleep(2000);
    // The second member joins mid-stream: the group rebalances and the partitions are shared.
    const second = await p.spawnWorker('aggregator');
    const summary = await run;
    const admin = testKafka().admin();
    await admin.connect();
    const group = (await admin.describeGroups([p.env.AGGREGATOR_GROUP!])).groups[0]!;
    await admin.disconnect();
    expect(group.members).toHaveLength(2);
    const r = await expectMatchesTruth(p, summary);
    console.info(`[two aggregators] ${r.windows} windows identical to the ground truth, ${group.members.length} members`);
    first.kill('SIGTERM');
    second.kill('SIGTERM');
    await p.close();
  });
});
