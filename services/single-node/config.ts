/**
 * Settings of the one-process run (`npm start`). Without `KAFKA_BROKERS` the stages talk through
 * the embedded log, without `INFLUX_URL` they store into the embedded database; setting either
 * switches that part to the real engine, configured by the same variables as the services.
 */
import { z } from 'zod';
import { commonEnv, port } from '../../shared/config.ts';

export const singleNodeEnv = {
  ...commonEnv,
  MQTT_PORT: port(1883),
  HTTP_PORT: port(8080),
  /** Where MQTT and the page listen: this machine only, unless set (e.g. 0.0.0.0 to take devices from the network). */
  MQTT_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** The stages' ops endpoints listen on base+1 … base+5 (gateway, normalizer, writer, aggregator, kpi-api); 0 = any free ports. */
  OPS_PORT_BASE: z.coerce.number().int().min(0).max(65_000).default(9100),
  /** Embedded store retention (InfluxDB has its own, deploy/influxdb/retention.md). */
  RAW_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
  AGG_RETENTION_DAYS: z.coerce.number().int().min(1).default(1825),
  KAFKA_BROKERS: z.string().min(1).optional(),
  /** On Kafka, the workers' consumer groups are `<prefix>normalizer`, `<prefix>writer`, `<prefix>aggregator`. */
  KAFKA_GROUP_PREFIX: z.string().default(''),
  INFLUX_URL: z.url().optional(),
};

export type SingleNodeConfig = z.infer<z.ZodObject<typeof singleNodeEnv>>;

/** The stages in ops-port order. */
export const STAGES = ['gateway', 'normalizer', 'writer', 'aggregator', 'kpi-api'] as const;
export type Stage = (typeof STAGES)[number];

export const opsPort = (cfg: SingleNodeConfig, stage: Stage) => (cfg.OPS_PORT_BASE === 0 ? '0' : String(cfg.OPS_PORT_BASE + STAGES.indexOf(stage) + 1));
