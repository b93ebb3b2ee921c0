/** What integration tests need to reach the real engines that global setup provided. */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { InfluxDB } from '@influxdata/influxdb-client';

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

/** A TCP port nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
