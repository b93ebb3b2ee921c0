/**
 * Every consumer is back in its group after Kafka stops and starts again, without its service
 * restarting. Many groups at once, because the crash kafkajs does not recover from (a member that
 * asks for its coordinator while the broker is going down or coming back: "Failed to find group
 * coordinator", restart false) strikes only a few members an outage, and not every outage: 3 or 4
 * of these 100 in 3 of 4 runs on this machine. shared/kafka/group-member.ts replaces them; without
 * it this test failed with 4 members given up (checked). A run the crash spares still proves that
 * every member comes back.
 */
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { BusConsumer } from '../../shared/bus/bus.ts';
import { createConsumerMetrics } from '../../shared/bus/consumer-metrics.ts';
import { createKafka } from '../../shared/kafka/client.ts';
import { KafkaBus } from '../../shared/kafka/kafka-bus.ts';
import { kafkaPid, startKafka, stopKafka, waitKafkaReady } from '../../engines/kafka.ts';
import { createLogger } from '../../shared/logging.ts';
import { sleep } from '../../shared/time.ts';
import { waitUntil } from '../support/gateway.ts';
import { leaveKafkaRunning, servicesEnv, unique } from '../support/services.ts';

const log = createLogger('kafka-outage', process.env.TEST_LOG_LEVEL ?? 'silent');
const MEMBERS = 100;

describe('consumers across a Kafka outage', { timeout: 240_000 }, () => {
  afterAll(leaveKafkaRunning);

  it(`brings all ${MEMBERS} consumer groups back by themselves, none stopped for good`, async () => {
    expect(kafkaPid(), 'this test stops the Kafka that `npm run services -- up` started').toBeDefined();
    const bus = new KafkaBus(createKafka({ brokers: servicesEnv().KAFKA_BROKERS!.split(','), clientId: unique('outage'), log }));
    const topic = unique('outage');
    await bus.ensureTopics([{ topic, partitions: 1, replicationFactor: 0 }]);
    const joins = new Map<string, number>();
    const fatal: string[] = [];
    const consumers: BusConsumer[] = [];
    const metrics = createConsumerMetrics(new Registry(), 'outage');
    for (let i = 0; i < MEMBERS; i++) {
      const groupId = `${topic}-g${i}`;
      joins.set(groupId, 0);
      consumers.push(
        await bus.consume({
          groupId,
          topic,
          log,
          metrics,
          onAssignmentChange: () => joins.set(groupId, joins.get(groupId)! + 1),
          onFatal: (err) => fatal.push(`${groupId}: ${err.message}`),
          handle: async () => ({}),
        }),
      );
    }
    const joinedAtLeast = (n: number) => [...joins.values()].every((j) => j >= n);
    await waitUntil(() => joinedAtLeast(1), 60_000, 'every member to join');

    await stopKafka();
    await sleep(15_000);
    await startKafka();
    await waitKafkaReady();
    await waitUntil(() => joinedAtLeast(2) || fatal.length > 0, 120_000, 'every member to join again').catch(() => undefined);

    expect(fatal, 'members given up for good').toEqual([]);
    const notBack = [...joins].filter(([, j]) => j < 2).map(([g]) => g);
    expect(notBack, 'groups whose member did not come back').toEqual([]);
    const replaced = (await metrics.replacements.get()).values[0]?.value ?? 0;
    console.info(`[kafka-outage] all ${MEMBERS} groups back after a 15 s stop; ${replaced} replacement attempts`);
    for (const c of consumers) await c.stop();
    await bus.close();
  });
});
