/**
 * The one way anything opens the bus and the store: the services' runner, `npm start`, the CLIs
 * and the tests. Each engine's settings are its adapter's (Kafka: `kafka/settings.ts`, InfluxDB:
 * `influx/settings.ts`) and are read here only, so a stage's settings name topics and groups,
 * never an engine.
 *
 * In production the engines are Kafka and InfluxDB (their defaults are on this machine). Where a
 * caller offers the embedded engines (`npm start`, the operators' CLIs), they are used unless
 * `KAFKA_BROKERS` / `INFLUX_URL` is set.
 */
import { join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { Bus } from './bus/bus.ts';
import { parseConfig } from './config.ts';
import { SqliteBus } from './embedded/sqlite-bus.ts';
import { SqliteStore } from './embedded/sqlite-store.ts';
import { ownTokenSetting } from './influx/access.ts';
import { influxEnv } from './influx/settings.ts';
import { InfluxTelemetryStore } from './influx/telemetry-store.ts';
import { createKafka } from './kafka/client.ts';
import { KafkaBus } from './kafka/kafka-bus.ts';
import { kafkaSecurity } from './kafka/security.ts';
import { kafkaEnv } from './kafka/settings.ts';
import type { Logger } from './logging.ts';
import type { TelemetryStore } from './store/store.ts';
import { DeviceRegistry } from './registry/device-registry.ts';
import { openRegistryTopic } from './kafka/registry-topic.ts';
import { z } from 'zod';

/** Where the device registry lives when it is not a file (a file is `DEVICE_REGISTRY`, or `$DATA_DIR/devices.json`). */
export const registryEnv = {
  DEVICE_REGISTRY_TOPIC: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'the central device registry: this compacted Kafka topic, which every service reads whole and follows (`npm run services -- status` prints it); unset: a registry file. A DEVICE_REGISTRY file, when set, wins', docDefault: 'unset (the file)' }),
};

/** Every engine's settings, by the page that documents them (`npm run docs`). */
export const ENGINE_SETTINGS = { kafka: kafkaEnv, influxdb: influxEnv, registry: registryEnv };

export interface Opened<T> {
  engine: T;
  /** Where it lives, for a start-up line (no secret). */
  describe: string;
}

export interface BusOptions {
  /** Who connects (a service's name): its Kafka client id is `<KAFKA_CLIENT_ID>-<service>`. */
  service: string;
  log: Logger;
  /** The embedded log in this directory unless `KAFKA_BROKERS` is set. */
  embedded?: { dataDir: string; logWriter?: MessagePort | undefined };
}

export function openBus(env: NodeJS.ProcessEnv, o: BusOptions): Opened<Bus> {
  if (o.embedded && !env.KAFKA_BROKERS) {
    const bus = new SqliteBus(join(o.embedded.dataDir, 'bus.db'), o.embedded.logWriter ? { writer: o.embedded.logWriter } : {});
    return { engine: bus, describe: `embedded log ${bus.path}` };
  }
  const k = parseConfig(kafkaEnv, env);
  const kafka = createKafka({ brokers: k.KAFKA_BROKERS, security: kafkaSecurity(k), addressMap: k.KAFKA_ADDRESS_MAP, clientId: `${k.KAFKA_CLIENT_ID}-${o.service}`, log: o.log });
  return { engine: new KafkaBus(kafka, { replicationFactor: k.KAFKA_REPLICATION_FACTOR }), describe: `Kafka ${k.KAFKA_BROKERS.join(',')}` };
}

export interface StoreOptions {
  /** Whose token: a service's own least-privilege one (`<SERVICE>_INFLUX_TOKEN`) wins over `INFLUX_TOKEN` when the environment holds it. */
  service?: string;
  /** The embedded store in this directory unless `INFLUX_URL` is set. */
  embedded?: { dataDir: string };
}

export function openStore(env: NodeJS.ProcessEnv, o: StoreOptions = {}): Opened<TelemetryStore> {
  if (o.embedded && !env.INFLUX_URL) {
    const store = new SqliteStore(join(o.embedded.dataDir, 'store.db'));
    return { engine: store, describe: `embedded store ${store.path}` };
  }
  const own = o.service ? env[ownTokenSetting(o.service)] : undefined;
  const i = parseConfig(influxEnv, own ? { ...env, INFLUX_TOKEN: own, INFLUX_TOKEN_FILE: undefined } : env);
  return { engine: new InfluxTelemetryStore(i), describe: `InfluxDB ${i.INFLUX_URL} bucket ${i.INFLUX_BUCKET}${i.INFLUX_AGG_BUCKET ? ` (aggregates ${i.INFLUX_AGG_BUCKET})` : ''}` };
}

/** Fails (a ConfigError naming the setting) now rather than when the engine is first opened. */
export function checkEngineSettings(env: NodeJS.ProcessEnv, uses: { bus: boolean; store: boolean }): void {
  if (uses.bus) kafkaSecurity(parseConfig(kafkaEnv, env));
  if (uses.store) parseConfig(influxEnv, env);
}

export interface RegistryOptions {
  /** Who reads it: its Kafka client and consumer group are named after it. */
  service: string;
  log: Logger;
  /** Where the file is by default, and where this process keeps its copy of the central registry. */
  dataDir: string;
  /** An operator's command: creates the central registry's topic if it is missing. */
  create?: boolean;
  /** A town's edge: only these municipalities' devices are held (and copied). */
  municipalities?: readonly string[] | undefined;
}

/**
 * The device registry a process uses: the file `DEVICE_REGISTRY` names; else, with
 * `DEVICE_REGISTRY_TOPIC` (and Kafka's settings), the central registry, read whole before this
 * returns (or this process's own copy of it, when Kafka is out of reach); else
 * `$DATA_DIR/devices.json`.
 */
export async function openDeviceRegistry(env: NodeJS.ProcessEnv, o: RegistryOptions): Promise<Opened<DeviceRegistry>> {
  const { DEVICE_REGISTRY_TOPIC: topic } = parseConfig(registryEnv, env);
  const only = o.municipalities ? ` (${o.municipalities.join(', ')} only)` : '';
  if (env.DEVICE_REGISTRY || !topic) {
    const registry = new DeviceRegistry(env.DEVICE_REGISTRY || join(o.dataDir, 'devices.json'), { municipalities: o.municipalities });
    return { engine: registry, describe: `device registry file ${registry.path}${only}` };
  }
  const k = parseConfig(kafkaEnv, env);
  const kafka = createKafka({ brokers: k.KAFKA_BROKERS, security: kafkaSecurity(k), addressMap: k.KAFKA_ADDRESS_MAP, clientId: `${k.KAFKA_CLIENT_ID}-${o.service}-registry`, log: o.log });
  const source = await openRegistryTopic({ kafka, topic, service: o.service, log: o.log, cachePath: join(o.dataDir, `devices.${o.service}.copy.json`), create: o.create ?? false, ...(o.municipalities ? { municipalities: o.municipalities } : {}) });
  return { engine: new DeviceRegistry(source, { municipalities: o.municipalities }), describe: `central device registry (${source.where}, ${k.KAFKA_BROKERS.join(',')})${only}` };
}
