/**
 * Kafka secured as production is, on the real local broker's SASL_SSL listener: TLS, SCRAM-SHA-512
 * and PLAIN logins, and ACLs that give the gateway's principal only the raw topic. Checked with
 * kafkajs (what the services use) and with kcat (librdkafka, an independent client).
 */
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { kafkaEnv } from '../../shared/kafka/settings.ts';
import { kafkaSecurity } from '../../shared/kafka/security.ts';
import { ensureTopics } from '../../shared/kafka/topics.ts';
import { kafkaCaPath, secureClientEnv } from '../../engines/kafka.ts';
import { readTopic } from '../support/kafka-read.ts';
import { grantTestAcls, testKafka, unique } from '../support/services.ts';

const id = unique('sec');
const topics = { TOPIC_RAW: `${id}.raw`, TOPIC_NORMALIZED: `${id}.normalized`, TOPIC_DEADLETTER: `${id}.deadletter` };

/** A kafkajs client logged in as `user` (or not at all) on the SASL_SSL listener. */
function client(user: 'gateway' | 'writer' | null, mechanism: 'SCRAM-SHA-512' | 'PLAIN' = 'SCRAM-SHA-512', password?: string): Kafka {
  const env = secureClientEnv(user ?? 'gateway', mechanism);
  const security = kafkaSecurity(parseConfig(kafkaEnv, { ...env, ...(password ? { KAFKA_SASL_PASSWORD: password } : {}) }));
  if (user === null) delete security.sasl; // TLS only: no login
  return new Kafka({
    brokers: [env.KAFKA_BROKERS!],
    ...security,
    clientId: `sec-${user}`,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { retries: 0 },
  });
}

async function produce(k: Kafka, topic: string, value: string): Promise<string> {
  const producer = k.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 100 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'd', value }] });
    return 'ok';
  } catch (err) {
    return (err as { type?: string }).type ?? (err as Error).message;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

function kcat(args: string[], input = ''): { status: number | null; out: string } {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * kcat logs in with PLAIN over TLS: Debian's kcat links librdkafka 2.0, whose SCRAM exchange
 * Kafka 4.x rejects (fixed in librdkafka 2.6.1; edenhill/kcat#462). kafkajs's SCRAM works (above).
 */
const kcatLogin = (user: string, password: string, mechanism = 'PLAIN') => [
  '-b', secureClientEnv('gateway').KAFKA_BROKERS!,
  '-X', 'security.protocol=SASL_SSL', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`,
  '-X', `ssl.ca.location=${kafkaCaPath}`,
];

describe("Kafka's SASL_SSL listener with per-service ACLs", () => {
  beforeAll(async () => {
    await ensureTopics(testKafka(), Object.values(topics).map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
    await grantTestAcls(topics);
  });

  it('lets the gateway produce to the raw topic (SCRAM-SHA-512 and PLAIN over TLS), not to the normalised one', async () => {
    expect(await produce(client('gateway'), topics.TOPIC_RAW, 'scram')).toBe('ok');
    expect(await produce(client('gateway', 'PLAIN'), topics.TOPIC_RAW, 'plain')).toBe('ok');
    expect(await produce(client('gateway'), topics.TOPIC_NORMALIZED, 'nope')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect((await readTopic(testKafka(), topics.TOPIC_RAW)).map((m) => m.value)).toEqual(['scram', 'plain']);
    expect(await readTopic(testKafka(), topics.TOPIC_NORMALIZED)).toEqual([]);
  });

  it("does not let the gateway read the normalised topic, even under a worker's group", async () => {
    for (const groupId of [`${id}-normalizer`, `${id}-gateway`]) {
      const consumer = client('gateway').consumer({ groupId, retry: { retries: 0 } });
      // kafkajs reports a consumer that cannot join or fetch through its CRASH event.
      const outcome = new Promise<string>((resolve) => {
        consumer.on(consumer.events.CRASH, (e) => resolve((e.payload.error as { type?: string }).type ?? e.payload.error.message));
        consumer.on(consumer.events.FETCH_START, () => resolve('fetching'));
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: topics.TOPIC_NORMALIZED, fromBeginning: true });
        await consumer.run({ eachMessage: async () => undefined });
        expect(await outcome, groupId).toMatch(/AUTHORIZATION_FAILED/);
      } catch (err) {
        expect((err as { type?: string }).type ?? (err as Error).message, groupId).toMatch(/AUTHORIZATION_FAILED/);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    }
  });

  it('refuses a client without credentials and a wrong password', async () => {
    expect(await produce(client(null), topics.TOPIC_RAW, 'anonymous')).not.toBe('ok');
    expect(await produce(client('gateway', 'SCRAM-SHA-512', 'wrong-password'), topics.TOPIC_RAW, 'guess')).not.toBe('ok');
    expect(await produce(client('gateway', 'PLAIN', 'wrong-password'), topics.TOPIC_RAW, 'guess')).not.toBe('ok');
  });

  it('kcat (librdkafka) with the gateway credentials over TLS: raw yes, normalised no; no credentials: refused', async () => {
    const pw = secureClientEnv('gateway').KAFKA_SASL_PASSWORD!;
    const raw = kcat([...kcatLogin('gateway', pw), '-P', '-t', topics.TOPIC_RAW, '-c', '1'], 'from-kcat\n');
    expect(raw.status, raw.out).toBe(0);
    const normalized = kcat([...kcatLogin('gateway', pw), '-P', '-t', topics.TOPIC_NORMALIZED], 'nope\n');
    expect(normalized.status, normalized.out).not.toBe(0);
    expect(normalized.out).toMatch(/authoriz/i);
    const read = kcat([...kcatLogin('gateway', pw), '-C', '-t', topics.TOPIC_NORMALIZED, '-o', 'beginning', '-e', '-G', `${id}-writer`, topics.TOPIC_NORMALIZED]);
    expect(read.out).toMatch(/authoriz/i);
    const anonymous = kcat(['-b', secureClientEnv('gateway').KAFKA_BROKERS!, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${kafkaCaPath}`, '-m', '10', '-P', '-t', topics.TOPIC_RAW], 'anonymous\n');
    expect(anonymous.status, anonymous.out).not.toBe(0);
    const wrong = kcat([...kcatLogin('gateway', 'wrong-password'), '-m', '10', '-P', '-t', topics.TOPIC_RAW], 'guess\n');
    expect(wrong.status, wrong.out).not.toBe(0);
    expect(wrong.out).toMatch(/Authentication failed/);
    const values = (await readTopic(testKafka(), topics.TOPIC_RAW)).map((m) => m.value);
    expect(values).toEqual(['scram', 'plain', 'from-kcat']);
    expect(await readTopic(testKafka(), topics.TOPIC_NORMALIZED)).toEqual([]);
  }, 90_000);
});
