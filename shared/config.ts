/**
 * Environment configuration, validated once at start-up (Fastify-style: schema at the boundary).
 * Each service composes the fragments it needs; a wrong value stops the process with one line
 * that names the variable.
 */
import { z } from 'zod';

/** Integer from an env string, e.g. `port(1883)`. */
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const port = (def: number) => int(def, 0, 65535);

export const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const commonEnv = {
  LOG_LEVEL: logLevel,
  DATA_DIR: z.string().min(1).default('data'),
};

export const kafkaEnv = {
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .refine((list) => list.every((b) => /^[^:\s]+:\d{1,5}$/.test(b)), 'expected host:port[,host:port…]'),
  KAFKA_CLIENT_ID: z.string().min(1).default('smartcity'),
  KAFKA_PARTITIONS: int(6, 1, 1000),
  KAFKA_REPLICATION_FACTOR: int(1, 1, 10),
  TOPIC_RAW: z.string().min(1).default('telemetry.raw'),
  TOPIC_NORMALIZED: z.string().min(1).default('telemetry.normalized'),
  TOPIC_DEADLETTER: z.string().min(1).default('telemetry.deadletter'),
};

export const influxEnv = {
  INFLUX_URL: z.url().default('http://127.0.0.1:8086'),
  INFLUX_TOKEN: z.string().default(''),
  INFLUX_ORG: z.string().default('smartcity'),
  INFLUX_BUCKET: z.string().min(1).default('telemetry/autogen'),
  /**
   * Bucket of the aggregates (energy_15m, fleet_1h, parking_15m); empty = INFLUX_BUCKET. A bucket
   * of its own lets raw readings expire long before the aggregates (deploy/influxdb/).
   */
  INFLUX_AGG_BUCKET: z.string().default(''),
};

export class ConfigError extends Error {}

/** Parse `env` against `shape`; throws ConfigError whose message is one line naming the variable. */
export function parseConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env) {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join('.') ?? '?';
    const value = env[name];
    const shown = value === undefined ? 'missing' : `'${name.includes('TOKEN') || name.includes('SECRET') ? '***' : value}'`;
    throw new ConfigError(`invalid configuration: ${name}=${shown}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** For `main.ts`: parse, or print the one line and exit 2. */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env) {
  try {
    return parseConfig(shape, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
