/** `up`, `down` and `status` of the local real engines, used by the CLI and the test harness. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ownTokenSetting } from '#shared/influx/access.ts';
import { BUS_PARTIES, STORE_SERVICES } from '../services/rights.ts';
import { KAFKA_VERSION, INFLUX_VERSION, influxDatabase, influxMajor, kafkaPort, influxPort, runHome } from './paths.ts';
import { portOpen } from './process.ts';
import * as kafka from './kafka.ts';
import * as influx from './influxdb.ts';
import { busNames, grantBusAcls } from '#shared/kafka/acls.ts';
import { ensureTopics } from '#shared/kafka/topics.ts';
import { DEFAULT_REGISTRY_TOPIC, registryTopicSpec } from '#shared/kafka/registry-topic.ts';
import { pipelineTopics } from '#shared/bus/topics.ts';
import { parseConfig, busEnv } from '#shared/config.ts';

const localStoreFile = join(runHome, 'influxdb', 'store.json');

/** The local store's buckets and tokens, as `up` provisioned them. */
export function localStore(): influx.StoreAccess | undefined {
  return existsSync(localStoreFile) ? (JSON.parse(readFileSync(localStoreFile, 'utf8')) as influx.StoreAccess) : undefined;
}

/**
 * The environment that points every service at the local engines (docs/architecture.md), and at
 * the central device registry on them.
 * INFLUX_TOKEN is the operator's (set-up, CLI); `WRITER_INFLUX_TOKEN` and the others are each
 * service's least-privilege token, which `npm run service -- NAME` picks over INFLUX_TOKEN.
 */
export function serviceEnv(): Record<string, string> {
  const store = localStore();
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafka.kafkaBrokers(),
    INFLUX_URL: influx.influxUrl(),
    INFLUX_TOKEN: store?.operatorToken ?? '',
    INFLUX_ORG: influx.INFLUX_ORG,
    INFLUX_BUCKET: store?.INFLUX_BUCKET ?? (influxMajor === 1 ? `${influxDatabase}/autogen` : influxDatabase),
    INFLUX_AGG_BUCKET: store?.INFLUX_AGG_BUCKET ?? '',
    // The one central device registry every service started with this environment reads.
    DEVICE_REGISTRY_TOPIC: DEFAULT_REGISTRY_TOPIC,
  };
  for (const s of STORE_SERVICES) env[ownTokenSetting(s)] = store?.tokens[s] ?? '';
  return env;
}

export interface UpOptions {
  clean?: boolean;
  /** Kafka nodes (KRaft brokers and controllers): 1, or 3 for a replicated cluster; default: as last started. */
  brokers?: number;
  log?: (line: string) => void;
}

export async function up({ clean = false, brokers, log = () => undefined }: UpOptions = {}): Promise<{ started: string[] }> {
  const started: string[] = [];
  const t0 = Date.now();
  // Install both first (each is cached), then start both so their start-up overlaps.
  if (!kafka.kafkaInstalled()) log(`installing Kafka ${KAFKA_VERSION} jars from Maven Central (once)…`);
  kafka.installKafka();
  if (!influx.influxInstalled()) log(`building InfluxDB ${INFLUX_VERSION} from its Go module (once, ${influxMajor === 1 ? '~1-3' : '~5-10'} min)…`);
  influx.installInflux();

  if (brokers !== undefined && brokers !== kafka.localKafka().nodes && kafka.kafkaPid() !== undefined) {
    throw new Error(`Kafka runs with ${kafka.localKafka().nodes} node(s): \`npm run services -- down\` first to start ${brokers}`);
  }
  if (kafka.kafkaPid() === undefined) {
    await kafka.startKafka({ clean, brokers });
    started.push('kafka');
  }
  if (influx.influxPid() === undefined) {
    await influx.startInflux({ clean });
    started.push('influxdb');
  }
  await Promise.all([kafka.waitKafkaReady(), influx.waitInfluxReady()]);
  const logins = kafka.ensureScramLogins();
  if (logins.length > 0) log(`Kafka logins added: ${logins.join(', ')}`);
  await influx.setUpInflux();
  writeFileSync(localStoreFile, JSON.stringify(await influx.provisionStore(influxDatabase)), { mode: 0o600 });
  const cfg = parseConfig(busEnv);
  const client = new Kafka({ brokers: kafka.kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const created = await ensureTopics(client, [...pipelineTopics(cfg), registryTopicSpec(DEFAULT_REGISTRY_TOPIC)]);
  if (created.length > 0) log(`created topics: ${created.join(', ')}`);
  // The services' rights on the SASL_SSL listener, for the default topic and group names.
  const admin = client.admin();
  await admin.connect();
  try {
    await grantBusAcls(admin, busNames(cfg), BUS_PARTIES);
  } finally {
    await admin.disconnect();
  }
  log(`services ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return { started };
}

export async function down(only?: string[]): Promise<string[]> {
  const stopped: string[] = [];
  if ((!only || only.includes('influxdb')) && (await influx.stopInflux())) stopped.push('influxdb');
  if ((!only || only.includes('kafka')) && (await kafka.stopKafka())) stopped.push('kafka');
  return stopped;
}

export interface ServiceStatus {
  name: string;
  version: string;
  address: string;
  running: boolean;
  pid: number | undefined;
}

export async function status(): Promise<ServiceStatus[]> {
  const influxVersion = await influx.influxVersion();
  return [
    {
      name: kafka.localKafka().nodes > 1 ? `kafka (${kafka.localKafka().nodes} brokers)` : 'kafka',
      version: KAFKA_VERSION,
      address: kafka.kafkaBrokers(),
      pid: kafka.kafkaPid(),
      running: await portOpen(kafkaPort),
    },
    {
      name: 'influxdb',
      version: influxVersion ?? INFLUX_VERSION,
      address: influx.influxUrl(),
      pid: influx.influxPid(),
      running: await portOpen(influxPort),
    },
  ];
}

export { kafka, influx };
