/** What integration tests need to reach the real engines that global setup provided. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { InfluxDB } from '@influxdata/influxdb-client';
import { kafkaPid, startKafka, waitKafkaReady } from '../../shared/local-engines/kafka.ts';

export const servicesEnv = () => inject('services');

export function testKafka(): Kafka {
  return new Kafka({ brokers: servicesEnv().KAFKA_BROKERS!.split(','), clientId: 'test', logLevel: logLevel.NOTHING });
}

export function testInflux(): InfluxDB {
  const env = servicesEnv();
  return new InfluxDB({ url: env.INFLUX_URL!, token: env.INFLUX_TOKEN ?? '' });
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
