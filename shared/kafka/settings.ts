/**
 * Kafka's own settings: where the brokers are, how to log in, how many copies of a topic to keep.
 * They belong to the Kafka adapter, not to the stages: a stage names topics and groups (engine-
 * neutral, `shared/config.ts`), and `openBus` (shared/engines.ts) reads these when the bus is Kafka.
 */
import { z } from 'zod';
import { int } from '../config.ts';
import { jsonSetting } from '../json-text.ts';
import { kafkaSecurityEnv } from './security.ts';

export const kafkaEnv = {
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .refine((list) => list.every((b) => /^[^:\s]+:\d{1,5}$/.test(b)), 'expected host:port[,host:port…]')
    .describe('Kafka brokers, comma-separated host:port'),
  KAFKA_CLIENT_ID: z.string().min(1).default('smartcity').describe("prefix of the Kafka client id (<prefix>-<service>), as the brokers' logs and quotas see it"),
  KAFKA_REPLICATION_FACTOR: int(0, 0, 10).describe('replicas of each topic the project creates; 0: as the cluster allows, 3 (with min.insync.replicas 2) on three or more brokers, else 1'),
  KAFKA_ADDRESS_MAP: jsonSetting(z.record(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port'), z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port'))).meta({
    description: 'JSON {"<advertised host:port>":"<host:port to connect to>"}: brokers reached through a port forward or NAT (a town edge\'s link to the centre); TLS still checks the advertised name',
    docDefault: '{} (connect where the cluster says)',
  }),
  ...kafkaSecurityEnv,
};
