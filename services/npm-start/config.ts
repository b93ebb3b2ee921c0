/**
 * Settings of the one-process run (`npm start`). Without `KAFKA_BROKERS` the stages talk through
 * the embedded log, without `INFLUX_URL` they store into the embedded database; setting either
 * switches that part to the real engine, configured by the same variables as the services.
 */
import { z } from 'zod';
import { commonEnv, port } from '../../shared/config.ts';
import { AGG_STORE_DAYS, RAW_STORE_DAYS } from '../../shared/privacy/retention.ts';
import { stagesNiceSetting } from '../../shared/thread-priority.ts';

export const singleNodeEnv = {
  ...commonEnv,
  MQTT_PORT: port(1883).describe('MQTT over TCP'),
  HTTP_PORT: port(8080).describe('the KPI API and the dashboard page'),
  HTTP_INGEST_PORT: port(8081).describe('HTTP ingest for devices and network-server webhooks (listens where MQTT does)'),
  MQTT_HOST: z.string().min(1).default('127.0.0.1').describe('where MQTT listens: this machine only unless set (0.0.0.0 takes devices from the network)'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('where the API and page listen'),
  OPS_PORT_BASE: z.coerce.number().int().min(0).max(65_000).default(9100).describe("the stages' /healthz /readyz /metrics listen on their service ports moved by base − 9100 (9101 … with the default); 0 = any free ports"),
  RAW_RETENTION_DAYS: z.coerce.number().int().min(1).default(RAW_STORE_DAYS).describe('embedded store: raw readings are kept this long'),
  AGG_RETENTION_DAYS: z.coerce.number().int().min(1).default(AGG_STORE_DAYS).describe('embedded store: aggregates are kept this long'),
  STAGES_NICE: stagesNiceSetting(19),
  LOG_FILE_MAX_BYTES: z.coerce.number().int().min(64 * 1024).default(16 * 1024 * 1024).describe('the log file (logs/pipeline.log) is rotated when it reaches this size'),
  LOG_FILE_KEEP: z.coerce.number().int().min(1).max(100).default(4).describe('rotated log files kept (pipeline.log.1 …); the logs take at most (LOG_FILE_KEEP + 1) × LOG_FILE_MAX_BYTES'),
  KAFKA_BROKERS: z.string().min(1).optional().meta({ description: 'set: the bus is Kafka instead of the embedded log', docDefault: 'unset (embedded log)' }),
  BUS_GROUP_PREFIX: z.string().default('').describe('on Kafka, the workers\' consumer groups are <prefix>normalizer, <prefix>writer, <prefix>aggregator'),
  INFLUX_URL: z.url().optional().meta({ description: 'set: the store is InfluxDB instead of the embedded database', docDefault: 'unset (embedded store)' }),
};

export type SingleNodeConfig = z.infer<z.ZodObject<typeof singleNodeEnv>>;
