/** What integration tests need to reach the real engines that global setup provided. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { InfluxDB } from '@influxdata/influxdb-client';
import { busEnv, parseConfig } from '../../shared/config.ts';
import { busNames, grantBusAcls } from '../../shared/kafka/acls.ts';
import { BUS_PARTIES } from '../../services/rights.ts';
import { kafkaPid, startKafka, waitKafkaReady } from '../../engines/kafka.ts';

export const servicesEnv = () => inject('services');

/**
 * Where the engines are, without the local store's buckets and tokens: what a test's own services
 * start from (each test provisions buckets of its own, and each service gets its own token). Nor
 * the central device registry: a test's devices are its own (a registry file), unless it asks.
 */
export function engineEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(servicesEnv()).filter(([k]) => !k.endsWith('INFLUX_TOKEN') && k !== 'INFLUX_BUCKET' && k !== 'INFLUX_AGG_BUCKET' && k !== 'DEVICE_REGISTRY_TOPIC'));
}

export function testKafka(): Kafka {
  return new Kafka({ brokers: servicesEnv().KAFKA_BROKERS!.split(','), clientId: 'test', logLevel: logLevel.NOTHING });
}

export function testInflux(): InfluxDB {
  const env = servicesEnv();
  return new InfluxDB({ url: env.INFLUX_URL!, token: env.INFLUX_TOKEN ?? '' }); // the operator's
}

/** A name no other test uses, so tests on the shared engines cannot see each other's data. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * A TCP port nothing listens on right now, chosen below the kernel's ephemeral range (32768+):
 * a port from that range can be taken by any outgoing connection (a Kafka client's, say) between
 * this check and the moment the process under test binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** After a test that stops Kafka: start it again (whatever happened) so the next test file has it. */
export async function leaveKafkaRunning(): Promise<void> {
  if (kafkaPid() === undefined) await startKafka();
  await waitKafkaReady();
}

/**
 * Gives the services' principals their rights (shared/kafka/acls.ts) on one test's topics and
 * groups, through the operator's listener, so its services can run on the SASL_SSL listener.
 */
export async function grantTestAcls(env: Partial<Record<string, unknown>> & { TOPIC_RAW?: string; TOPIC_NORMALIZED?: string; TOPIC_DEADLETTER?: string; DEVICE_REGISTRY_TOPIC?: string; NORMALIZER_GROUP?: string; WRITER_GROUP?: string; AGGREGATOR_GROUP?: string; ALARMS_GROUP?: string; EDGE_INTAKE_GROUP?: string }): Promise<void> {
  const topics = parseConfig(busEnv, { TOPIC_RAW: env.TOPIC_RAW, TOPIC_NORMALIZED: env.TOPIC_NORMALIZED, TOPIC_DEADLETTER: env.TOPIC_DEADLETTER });
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await grantBusAcls(admin, busNames({ ...topics, DEVICE_REGISTRY_TOPIC: env.DEVICE_REGISTRY_TOPIC }, { normalizer: env.NORMALIZER_GROUP, writer: env.WRITER_GROUP, aggregator: env.AGGREGATOR_GROUP, alarms: env.ALARMS_GROUP, 'edge-intake': env.EDGE_INTAKE_GROUP }), BUS_PARTIES);
  } finally {
    await admin.disconnect();
  }
}
